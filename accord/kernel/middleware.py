import logging
import re
import uuid

from .context import acting

logger = logging.getLogger("accord.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Browser features Accord never uses, denied to every page and to anything framed in one.
# (Web Authentication is left out: a security key for two-factor sign-in may come later.)
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


class RequestContextMiddleware:
    """Gives every request an id of Accord's own making (a random UUID), used by the audit
    trail and the logs, and returned to the client in X-Request-ID.

    An X-Request-ID sent with the request is never taken as ours: anyone can send one, and an
    audit entry's request id must name a request that Accord itself numbered, never a value
    chosen by the client (which could, for instance, make two requests look like one). When a
    proxy sends a well-formed id, it is kept as `request.client_request_id` and logged once,
    beside ours, so the proxy's logs can still be matched with ours; a malformed one is
    ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        incoming = request.headers.get("X-Request-ID", "")
        request.client_request_id = incoming if _VALID_REQUEST_ID.match(incoming) else ""
        with acting(request_id=request.request_id):
            if request.client_request_id:
                logger.info("X-Request-ID from the client: %s", request.client_request_id)
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class PermissionsPolicyMiddleware:
    """Sends a Permissions-Policy header that switches off the browser features Accord never
    needs (camera, microphone, location, payment, USB and the like), so a script that got onto
    a page, or a page framing one, cannot ask for them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
