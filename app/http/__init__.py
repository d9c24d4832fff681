"""The HTTP edge shared by every router: the one error path, request reading, ETags (no domain logic here)."""
