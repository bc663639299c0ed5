#include "libs/client/shard_streams.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/client/shards.h"

namespace mileagebank::client {

std::vector<ShardStream> ShardStreams(absl::string_view service,
                                      absl::string_view targets) {
  std::vector<std::string> shards = SplitTargets(targets);
  std::vector<ShardStream> streams;
  if (shards.size() <= 1) {
    streams.push_back({std::string(service), shards.empty() ? "" : shards[0]});
    return streams;
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    streams.push_back({absl::StrCat(service, "-", i), shards[i]});
  }
  return streams;
}

absl::string_view ServiceOfStream(absl::string_view stream) {
  size_t dash = stream.rfind('-');
  if (dash == absl::string_view::npos || dash + 1 == stream.size()) return stream;
  for (char c : stream.substr(dash + 1)) {
    if (c < '0' || c > '9') return stream;
  }
  return stream.substr(0, dash);
}

absl::StatusOr<std::string> NamesakeTarget(absl::string_view field,
                                           absl::string_view targets,
                                           int shard_index, int shard_count) {
  std::vector<std::string> shards = SplitTargets(targets);
  if (shards.size() == 1) return shards[0];
  if (static_cast<int>(shards.size()) != shard_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": lists ", shards.size(), " addresses; give one, or one per "
        "shard (server.shard_count is ", shard_count, ")"));
  }
  return shards[shard_index];
}

}  // namespace mileagebank::client
