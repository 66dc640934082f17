"""No models. The module exists because Django sends post_migrate (which syncs the
roles, see apps.py) only to apps that have a models module."""
