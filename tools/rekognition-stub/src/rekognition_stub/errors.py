"""The AWS errors the stub can answer with, shaped as botocore expects them."""

from __future__ import annotations

# code -> (HTTP status, the message AWS sends when nothing more specific applies)
AWS_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDeniedException": (400, "User is not authorized to perform: rekognition:DetectLabels"),
    "ImageTooLargeException": (400, "Image size is too large."),
    "InternalServerError": (500, "Internal server error."),
    "InvalidImageFormatException": (400, "Request has invalid image format"),
    "InvalidParameterException": (400, "Request has invalid parameters"),
    "InvalidS3ObjectException": (
        400,
        "Unable to get object metadata from S3. Check object key, region and/or access "
        "permissions.",
    ),
    "ProvisionedThroughputExceededException": (400, "Provisioned rate exceeded."),
    "ThrottlingException": (400, "Rate exceeded"),
    "SerializationException": (400, "Request body is not valid JSON."),
    "UnknownOperationException": (400, "Unknown operation."),
}

# The errors DetectLabels declares in its service model: the ones a rule may force.
DETECT_LABELS_ERRORS = frozenset(AWS_ERRORS) - {
    "SerializationException",
    "UnknownOperationException",
}


class RekognitionError(Exception):
    """An AWS error answer: its code names the exception botocore raises."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.status, default_message = AWS_ERRORS[code]
        self.message = message or default_message
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, str]:
        """The JSON-protocol error body botocore parses into Error.Code and Error.Message."""
        return {"__type": self.code, "Message": self.message}
