"""REST front door: thin routers over the services."""
