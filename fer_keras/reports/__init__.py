"""Reports: a run's metrics, figures and report files, display names, and summaries over seeds."""
