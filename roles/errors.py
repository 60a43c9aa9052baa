"""CAM errors with their API 3.0 codes."""

from core.apierror import ApiError


class CamError(ApiError):
    code = "FailedOperation"


def _error(name: str, code: str, message: str) -> type[CamError]:
    return type(name, (CamError,), {"code": code, "message": message})


ParamError = _error("ParamError", "InvalidParameter.ParamError", "The parameters are not valid.")
RoleNotExist = _error("RoleNotExist", "InvalidParameter.RoleNotExist", "The role does not exist.")
RoleNameInUse = _error("RoleNameInUse", "InvalidParameter.RoleNameInUse", "A role with this name already exists.")
RoleNameError = _error(
    "RoleNameError", "InvalidParameter.RoleNameError", "Role names are 1-128 letters, digits and +=,.@-_."
)
DescriptionTooLong = _error(
    "DescriptionTooLong", "InvalidParameter.DescriptionLengthOverlimit", "The description is too long."
)
PolicyIdNotExist = _error("PolicyIdNotExist", "InvalidParameter.PolicyIdNotExist", "The policy does not exist.")
PolicyIdNotFound = _error("PolicyIdNotFound", "ResourceNotFound.PolicyIdNotFound", "The policy does not exist.")
PolicyNameInUse = _error("PolicyNameInUse", "InvalidParameter.PolicyNameInUse", "A policy with this name exists.")
PolicyNameError = _error("PolicyNameError", "InvalidParameter.PolicyNameError", "The policy name is not valid.")
PresetPolicyReadOnly = _error(
    "PresetPolicyReadOnly", "InvalidParameter.PolicyIdError", "Preset policies cannot be changed or deleted."
)
UserNotExist = _error("UserNotExist", "ResourceNotFound.UserNotExist", "The sub-user does not exist.")
UserNameInUse = _error("UserNameInUse", "InvalidParameter.UserNameIllegal", "A sub-user with this name exists.")
AccessKeyNotExist = _error(
    "AccessKeyNotExist", "ResourceNotFound.SecretNotExist", "The access key does not exist for this user."
)
AccessKeyLimit = _error("AccessKeyLimit", "OperationDenied.AccessKeyOverLimit", "A user may hold at most 2 keys.")
TagParamError = _error("TagParamError", "InvalidParameter.TagParamError", "Tags need a Key and a Value.")
ScopeError = _error("ScopeError", "InvalidParameter.ScopeError", "Scope must be All, QCS or Local.")
Unauthorized = _error(
    "Unauthorized", "AuthFailure.UnauthorizedOperation", "You are not authorized to perform this operation."
)
