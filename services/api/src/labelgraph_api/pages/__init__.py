"""The pages people look at: HTML shells whose scripts read the JSON API with the user's key."""
