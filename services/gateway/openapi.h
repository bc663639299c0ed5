// The OpenAPI 3 document of the REST face, generated from routes.h and the
// contracts' descriptors, so it cannot drift from what is served; the test
// checks every route against it the way a client generator would read it.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_OPENAPI_H_
#define MILEAGEBANK_SERVICES_GATEWAY_OPENAPI_H_

#include <string>

namespace mileagebank::gateway {

// The document, as JSON.
const std::string& OpenApiDocument();

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_OPENAPI_H_
