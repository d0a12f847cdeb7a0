"""An example consumer of image-labels: notify when a chosen label is seen on a chosen camera."""
