"""HTTP routes: thin functions that resolve dependencies, call the domain and wrap the result."""
