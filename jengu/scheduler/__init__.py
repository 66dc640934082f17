"""The cron scheduler (`manage.py crontab`): dramatiq-crontab's jobs under a leader lock
that survives Redis losing it. See `leadership.py`."""
