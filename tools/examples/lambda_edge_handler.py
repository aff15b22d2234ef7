"""An example Lambda@Edge viewer-request handler guarded by edge_ssre.

Package it with:  python tools/package_lambda_edge.py --handler tools/examples/lambda_edge_handler.py
"""

from edge_ssre.lambda_edge import protect


@protect(profile="lambda-edge-viewer")
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    # ... rewrite the request, add headers, route to an origin ...
    return request
