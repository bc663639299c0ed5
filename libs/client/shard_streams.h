// The event streams of a service that may be sharded, as a follower of all
// of them names its cursors: "accrual" for an unsharded service, else
// "accrual-0", "accrual-1"... in shard order.
#ifndef MILEAGEBANK_LIBS_CLIENT_SHARD_STREAMS_H_
#define MILEAGEBANK_LIBS_CLIENT_SHARD_STREAMS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mileagebank::client {

struct ShardStream {
  // The follower's cursor name.
  std::string source;
  // The shard's address.
  std::string target;
};

// The streams of `service` at `targets` (a comma-separated list, as the
// *_target settings give it).
std::vector<ShardStream> ShardStreams(absl::string_view service,
                                      absl::string_view targets);

// "accrual" from "accrual" or "accrual-2": the service a stream is of.
absl::string_view ServiceOfStream(absl::string_view stream);

// The one shard of `service` a shard of a neighbour follows: its namesake,
// since a member lives on the same-numbered shard of every member-keyed
// service. `targets` lists one address (an unsharded neighbour) or exactly
// `shard_count`; anything else is a configuration error naming `field`.
absl::StatusOr<std::string> NamesakeTarget(absl::string_view field,
                                           absl::string_view targets,
                                           int shard_index, int shard_count);

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_SHARD_STREAMS_H_
