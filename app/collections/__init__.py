"""Collections of features served by the API: the interface, its registry and its implementations."""
