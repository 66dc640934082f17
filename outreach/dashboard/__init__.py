"""The dashboard: sales pages (overview, prospects, campaigns, review, replies, inboxes)
and the operator's system page. Views only call selectors and services."""
