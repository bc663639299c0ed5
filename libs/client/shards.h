// Which shard of a member-keyed service (membership, accrual, redemption)
// holds a member, and where a request to such a service goes.
//
// A member lives on shard ShardOfMember(number, count) of each of the
// three services, so a member's profile, ledger and redemptions are on
// shards with the same index and a shard's neighbours are its namesakes.
// The hash is part of the stored data's layout: changing it, or the shard
// count, means moving members between stores.
//
// Thread-safe: pure functions.
#ifndef MILEAGEBANK_LIBS_CLIENT_SHARDS_H_
#define MILEAGEBANK_LIBS_CLIENT_SHARDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mileagebank::client {

// The shard of `member_number` among `shard_count` (>= 1).
int ShardOfMember(absl::string_view member_number, int shard_count);

// The shard an enrolment goes to: that of its identity document, so that
// two enrolments with the same document meet on one shard, whose unique
// index refuses the second. Letters are compared case-blind and anything
// but letters and digits is ignored, as membership's normalisation does.
int ShardOfDocument(absl::string_view document_type,
                    absl::string_view issuing_country,
                    absl::string_view number, int shard_count);

// "h1:p1,h2:p2" → {"h1:p1", "h2:p2"}: a `*_target` setting lists a
// service's shards in shard order; one address means one shard.
std::vector<std::string> SplitTargets(absl::string_view targets);

// Where a request to a member-keyed service goes.
struct Route {
  enum class Kind {
    // One shard: `shard`.
    kShard,
    // No member key: the caller decides (ask every shard, or the one that
    // knows an id).
    kUnkeyed,
  };
  Kind kind = Kind::kShard;
  int shard = 0;
};

// The route of `request` among `shard_count` shards, from its member key:
// member_number (or from_/source_member_number), an id that starts with
// its member's number (transaction, hold, claim, lot ids are
// "<member>-<kind><n>"), or an enrolment's identity document.
Route RouteOf(const google::protobuf::Message& request, int shard_count);

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_SHARDS_H_
