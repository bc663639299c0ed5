// Sessions: a member's web session from login to logout, in the gateway's
// store.
//
// A session hands out two credentials (tokens.h has the access token):
// - the access token, signed, short-lived (15 minutes by default) and
//   checked on every request without touching the disk;
// - the refresh token, 32 random bytes in base64url, long-lived (7 days),
//   single use: Refresh exchanges it for a new pair. Only its SHA-256 is
//   stored, so a copy of the store lets nobody in.
// Presenting a refresh token that was already exchanged ends the whole
// session: either the member or a thief holds a copy, and the gateway cannot
// tell which, so neither keeps access (refresh token rotation, RFC 6749
// section 10.4 / OAuth 2.0 Security BCP 4.14).
//
// Ending a session (logout, or a reused refresh token) must stop its access
// tokens at once, although they are valid signatures until they expire. The
// gateway therefore keeps the sessions ended while some access token of
// theirs may still be unexpired in memory, the store being the truth they
// are reloaded from at start. That set is small (logouts of the last
// minutes), so Authenticate is a signature check and a hash lookup.
//
//   auto sessions = Sessions::Open(store, signer, options);
//   MB_ASSIGN_OR_RETURN(v1::LoginResponse pair, (*sessions)->Start(number));
//   MB_ASSIGN_OR_RETURN(Principal who, (*sessions)->Authenticate(token));
//   MB_RETURN_IF_ERROR((*sessions)->End(who.session_id));
//
// Tables (libs/store/keys.h encodings; Tables() lists them):
//   sessions        String(session_id) -> String(member_number)
//                   Int64(latest access expiry µs) Int64(ended µs, 0 while
//                   live)
//   session_refresh raw SHA-256 of the refresh token -> String(session_id)
//                   Int64(expires µs) Uint64(1 once exchanged, else 0)
//   sessions_ended  Int64(latest access expiry µs) String(session_id) -> ""
//                   (what Open reloads: ended sessions whose access tokens
//                   have not all expired)
//
// Purge deletes the rows nothing can use any more (expired refresh tokens,
// sessions with no token left that could be accepted, ended sessions past
// their tokens' expiry), so that the store holds the sessions of the last
// refresh lifetime rather than every login ever made; SessionPurger runs it
// periodically.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_SESSIONS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_SESSIONS_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "services/gateway/ended_sessions.h"
#include "services/gateway/principal.h"
#include "services/gateway/state.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {

struct SessionOptions {
  // How long an access token is accepted.
  absl::Duration access_token_lifetime = absl::Seconds(900);
  // How long a refresh token may be exchanged; each exchange starts a new
  // one, so a session lasts while the member comes back within this.
  absl::Duration refresh_token_lifetime = absl::Seconds(604800);
  // Rows Purge reads (and deletes at most) per batch: bounds the keys held
  // in memory and how long sessions wait behind a purge.
  size_t purge_chunk_rows = 4096;
};

// The lifetimes of `config`, with the defaults for fields left at 0.
SessionOptions SessionOptionsFromConfig(const config::v1::GatewayConfig& config);

// The member and session of `access_token` if `signer` signed it, it has
// not expired at `now` and its session is not in `ended`; else
// UNAUTHENTICATED. What every SessionRegistry's Authenticate is.
absl::StatusOr<Principal> AuthenticateAccessToken(
    const TokenSigner& signer, const EndedSessions& ended,
    absl::string_view access_token, absl::Time now);

// The sessions kept in this process's store (state.h).
class Sessions final : public SessionRegistry {
 public:
  using Clock = std::function<absl::Time()>;

  // Opens the sessions kept in `store` (opened with Tables(); it outlives
  // the Sessions), reloading the ended ones that still matter.
  static absl::StatusOr<std::unique_ptr<Sessions>> Open(
      store::Store* store, TokenSigner signer, SessionOptions options,
      Clock clock = absl::Now);

  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  static std::vector<std::string> Tables();

  // SessionRegistry. Authenticate reads no disk.
  absl::StatusOr<v1::LoginResponse> Start(
      absl::string_view member_number) override;
  absl::StatusOr<Principal> Authenticate(
      absl::string_view access_token) const override;
  absl::StatusOr<v1::LoginResponse> Refresh(
      absl::string_view refresh_token) override;
  absl::Status End(absl::string_view session_id) override;

  // End, answering the time after which no access token of the session is
  // left unexpired (for fronts to remember it until then).
  absl::StatusOr<absl::Time> EndUntil(absl::string_view session_id);

  // The ended sessions that still matter, with their cursors: the feed
  // fronts follow (GatewayState's ListEndedSessions).
  const EndedSessions& ended() const { return ended_; }

  // Deletes every row no token can use any more at the clock's now, and
  // answers how many. Safe while sessions are used: a row that a decision
  // changed since the scan is read again before it is deleted.
  absl::StatusOr<int64_t> Purge();

 private:
  Sessions(store::Store* store, TokenSigner signer, SessionOptions options,
           Clock clock);

  struct SessionRow;
  // Puts a new refresh token of `session_id` and an access token into
  // `batch` and `response`; updates the session's latest access expiry.
  absl::Status Issue(absl::string_view session_id, SessionRow& session,
                     absl::Time now, store::WriteBatch& batch,
                     v1::LoginResponse* response);
  // Marks the session ended in `batch` and in memory. Needs `mutex_`.
  void MarkEnded(absl::string_view session_id, SessionRow& session,
                 absl::Time now, store::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // When the session's row can go: no access token of it unexpired and no
  // refresh token of it exchangeable.
  absl::Time Forgettable(const SessionRow& session) const;
  // Deletes the rows of `table` that `dead` says can go, scanning it in
  // chunks; `recheck`: read each again under `mutex_` first (rows that
  // decisions change).
  absl::StatusOr<int64_t> PurgeTable(
      const char* table, const store::ScanRange& range, bool recheck,
      const std::function<absl::StatusOr<bool>(absl::string_view value)>& dead);
  store::Store* const store_;
  const TokenSigner signer_;
  const SessionOptions options_;
  const Clock clock_;

  // Orders Refresh and End decisions (read, decide, enqueue).
  absl::Mutex mutex_;

  // Ended sessions whose access tokens may not all have expired. Its own
  // lock: Authenticate reads it on every request and must not wait behind a
  // decision's disk read.
  EndedSessions ended_;
};

// Runs Purge every `every` on a thread of its own until destroyed.
class SessionPurger {
 public:
  SessionPurger(Sessions* sessions, absl::Duration every);
  SessionPurger(const SessionPurger&) = delete;
  SessionPurger& operator=(const SessionPurger&) = delete;
  ~SessionPurger();

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_SESSIONS_H_
