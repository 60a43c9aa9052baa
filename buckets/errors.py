"""COS errors: each class carries its wire code and HTTP status; `cos_operation` renders them."""


class CosError(Exception):
    status = 400
    code = "InvalidRequest"
    message = "The request is invalid."
    delete_marker: str | None = None  # the stored id of the delete marker a GET, HEAD or copy source met

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message


def _error(name: str, status: int, message: str) -> type[CosError]:
    return type(name, (CosError,), {"code": name, "status": status, "message": message})


AccessDenied = _error("AccessDenied", 403, "Access Denied.")


class ServiceRoleMissing(AccessDenied):
    """SSE-KMS refused because COS_QcsRole (or its KMS policy) is missing: AccessDenied on the wire."""


BadDigest = _error("BadDigest", 400, "The Content-MD5 you specified did not match what was received.")
BucketAlreadyExists = _error("BucketAlreadyExists", 409, "The requested bucket name is not available.")
BucketAlreadyOwnedByYou = _error(
    "BucketAlreadyOwnedByYou", 409, "The bucket you tried to create already exists, and you own it."
)
BucketNotEmpty = _error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty.")
EntityTooLarge = _error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size.")
IncompleteBody = _error(
    "IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."
)
InternalError = _error("InternalError", 500, "We encountered an internal error. Please try again.")
InvalidAccessKeyId = _error("InvalidAccessKeyId", 403, "The SecretId you provided does not exist.")
InvalidArgument = _error("InvalidArgument", 400, "Invalid Argument.")
InvalidBucketName = _error("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidDigest = _error("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")


class InvalidRange(CosError):
    status = 416
    code = "InvalidRange"
    message = "The requested range is not satisfiable."

    def __init__(self, size: int):
        super().__init__()
        self.size = size  # for Content-Range: bytes */<size>


ServiceUnavailable = _error("ServiceUnavailable", 503, "Please reduce your request rate or try again later.")
InvalidRequest = _error("InvalidRequest", 400, "The request is invalid.")
InvalidURI = _error("InvalidURI", 400, "Couldn't parse the specified URI.")
KeyTooLong = _error("KeyTooLong", 400, "Your key is too long.")
MalformedXML = _error(
    "MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema."
)
MethodNotAllowed = _error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
MissingContentLength = _error("MissingContentLength", 411, "You must provide the Content-Length HTTP header.")
NoSuchBucket = _error("NoSuchBucket", 404, "The specified bucket does not exist.")
NoSuchKey = _error("NoSuchKey", 404, "The specified key does not exist.")
NotImplementedOperation = type(
    "NotImplementedOperation",
    (CosError,),
    {"code": "NotImplemented", "status": 501, "message": "This operation is not implemented by Kinko."},
)
PreconditionFailed = _error("PreconditionFailed", 412, "At least one of the preconditions you specified did not hold.")
RequestHeaderTooLarge = _error("RequestHeaderTooLarge", 400, "Your request header exceeds the maximum allowed size.")
RequestTimeTooSkewed = _error(
    "RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large."
)
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. "
    "Check your SecretKey and signing method.",
)


MetadataTooLarge = _error("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.")
SSEHeaderNotAllowed = _error(
    "SSEHeaderNotAllowed", 400, "x-cos-server-side-encryption is not allowed on GET or HEAD Object."
)
EntityTooSmall = _error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
InvalidPart = _error("InvalidPart", 400, "One or more of the specified parts could not be found.")
InvalidPartOrder = _error("InvalidPartOrder", 400, "The list of parts was not in ascending order.")
NoSuchVersion = _error("NoSuchVersion", 404, "The specified version does not exist.")
NoSuchUpload = _error("NoSuchUpload", 404, "The specified multipart upload does not exist.")
InvalidCopySource = _error("InvalidCopySource", 400, "The copy source is not valid.")
NoSuchCopySource = _error("NoSuchCopySource", 404, "The specified copy source does not exist.")
InvalidPolicyDocument = _error("InvalidPolicyDocument", 400, "The content of the form does not meet the conditions.")
MalformedPOSTRequest = _error(
    "MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data."
)
KmsException = _error("KmsException", 400, "The KMS refused the request.")
KmsKeyDisabled = _error("KmsKeyDisabled", 400, "The KMS key is disabled.")
KmsKeyNotExist = _error("KmsKeyNotExist", 400, "The KMS key does not exist.")
NoSuchEncryptionConfiguration = _error(
    "NoSuchEncryptionConfiguration", 404, "The specified bucket does not have a Encryption configuration"
)
NoSuchCORSConfiguration = _error("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist.")
NoSuchLifecycleConfiguration = _error(
    "NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist."
)
NoSuchBucketPolicy = _error("NoSuchBucketPolicy", 404, "The specified bucket does not have a bucket policy.")
MalformedPolicy = _error("MalformedPolicy", 400, "The bucket policy is not valid.")
CorsForbidden = type(
    "CorsForbidden",
    (CosError,),
    {"code": "AccessForbidden", "status": 403, "message": "CORSResponse: This CORS request is not allowed."},
)
InvalidTag = _error("InvalidTag", 400, "The tag provided was not a valid tag.")
BadRequest = _error("BadRequest", 400, "The request is not valid.")
NoSuchTagSet = _error("NoSuchTagSet", 404, "The TagSet does not exist.")
