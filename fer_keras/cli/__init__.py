"""The command entry points: ``fer-train`` (:mod:`.train`), ``fer-predict`` (:mod:`.predict`), ``fer-export``
(:mod:`.export`), ``fer-report`` (:mod:`.report`), and what they share (:mod:`.common`).

Each is also ``python -m fer_keras.<command>`` (a two-line module of that name runs it).
"""
