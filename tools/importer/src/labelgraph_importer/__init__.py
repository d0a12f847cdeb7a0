"""Imports a camera owner's own stills into the image bucket, under the cameras' key layout."""
