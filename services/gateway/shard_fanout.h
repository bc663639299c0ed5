// How the gateway answers a request to a sharded service that names no
// member (libs/client/shards.h routes those that do): which shards it asks
// and how their answers become one.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_SHARD_FANOUT_H_
#define MILEAGEBANK_SERVICES_GATEWAY_SHARD_FANOUT_H_

#include "google/protobuf/message.h"

namespace mileagebank::gateway {

enum class Fanout {
  // Any shard answers alike (the award chart, quotes): the first.
  kFirstShard,
  // An id that one shard knows (a redemption): each in turn until one does
  // not answer NOT_FOUND. Safe for writes: a shard that does not know the
  // id changes nothing.
  kFirstFound,
  // Every shard holds part of the answer (searches, seat counts, ledger
  // checks), or must take the change (seat capacity, expiry runs).
  kEveryShard,
};

Fanout FanoutOf(const google::protobuf::Message& request);

// Folds one shard's answer into the answer so far (`total` starts empty):
// lists are joined, counts added, seat counts added cabin by cabin.
void MergeShardAnswer(const google::protobuf::Message& part,
                      google::protobuf::Message* total);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_SHARD_FANOUT_H_
