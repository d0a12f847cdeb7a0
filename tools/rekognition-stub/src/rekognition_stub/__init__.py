"""A Rekognition DetectLabels stand-in that speaks AWS's JSON protocol over real HTTP."""
