#include "services/gateway/sessions.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/crypto/password.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kSessionsTable[] = "sessions";
constexpr char kRefreshTable[] = "session_refresh";
constexpr char kEndedTable[] = "sessions_ended";

constexpr size_t kRefreshTokenBytes = 32;

absl::Status RefreshNotValid() {
  return absl::UnauthenticatedError("refresh token is not valid");
}

absl::Status SessionEnded() {
  return absl::UnauthenticatedError("session has ended; log in again");
}

absl::Status Corrupt(absl::string_view table, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("gateway store: ", table,
                                          " row of ", what, " is corrupt"));
}

int64_t Micros(absl::Time time) { return absl::ToUnixMicros(time); }

// A token's times are whole seconds (tokens.h); the response says the same.
absl::Time WholeSeconds(absl::Time time) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(time));
}

struct RefreshRow {
  std::string session_id;
  absl::Time expires;
  bool used = false;

  std::string Encode() const {
    return store::KeyBuilder()
        .String(session_id)
        .Int64(Micros(expires))
        .Uint64(used ? 1 : 0)
        .Build();
  }
  bool Decode(absl::string_view value) {
    store::KeyReader reader(value);
    int64_t expires_micros = 0;
    uint64_t used_flag = 0;
    if (!reader.String(&session_id) || !reader.Int64(&expires_micros) ||
        !reader.Uint64(&used_flag) || !reader.done()) {
      return false;
    }
    expires = absl::FromUnixMicros(expires_micros);
    used = used_flag != 0;
    return true;
  }
};

std::string EndedKey(absl::Time forget_after, absl::string_view session_id) {
  return store::KeyBuilder()
      .Int64(Micros(forget_after))
      .String(session_id)
      .Build();
}

}  // namespace

struct Sessions::SessionRow {
  std::string member_number;
  // The latest expiry of any access token handed out for the session: once
  // past, an ended session need not be remembered.
  absl::Time access_expires = absl::InfinitePast();
  // InfinitePast while the session is live.
  absl::Time ended = absl::InfinitePast();

  bool live() const { return ended == absl::InfinitePast(); }

  std::string Encode() const {
    return store::KeyBuilder()
        .String(member_number)
        .Int64(Micros(access_expires))
        .Int64(live() ? 0 : Micros(ended))
        .Build();
  }
  bool Decode(absl::string_view value) {
    store::KeyReader reader(value);
    int64_t access_micros = 0;
    int64_t ended_micros = 0;
    if (!reader.String(&member_number) || !reader.Int64(&access_micros) ||
        !reader.Int64(&ended_micros) || !reader.done()) {
      return false;
    }
    access_expires = absl::FromUnixMicros(access_micros);
    ended = ended_micros == 0 ? absl::InfinitePast()
                              : absl::FromUnixMicros(ended_micros);
    return true;
  }
};

SessionOptions SessionOptionsFromConfig(
    const config::v1::GatewayConfig& config) {
  SessionOptions options;
  if (config.access_token_seconds() > 0) {
    options.access_token_lifetime = absl::Seconds(config.access_token_seconds());
  }
  if (config.refresh_token_seconds() > 0) {
    options.refresh_token_lifetime =
        absl::Seconds(config.refresh_token_seconds());
  }
  return options;
}

Sessions::Sessions(store::Store* store, TokenSigner signer,
                   SessionOptions options, Clock clock)
    : store_(store),
      signer_(std::move(signer)),
      options_(options),
      clock_(std::move(clock)) {}

std::vector<std::string> Sessions::Tables() {
  return {kSessionsTable, kRefreshTable, kEndedTable};
}

absl::StatusOr<std::unique_ptr<Sessions>> Sessions::Open(
    store::Store* store, TokenSigner signer, SessionOptions options,
    Clock clock) {
  std::unique_ptr<Sessions> sessions(
      new Sessions(store, std::move(signer), options, std::move(clock)));
  const absl::Time now = sessions->clock_();
  store::ScanRange range{store::KeyBuilder().Int64(Micros(now)).Build(), ""};
  absl::Status corrupt;
  MB_RETURN_IF_ERROR(store->Scan(
      kEndedTable, range,
      [&](absl::string_view key, absl::string_view) {
        store::KeyReader reader(key);
        int64_t forget_micros = 0;
        std::string session_id;
        if (!reader.Int64(&forget_micros) || !reader.String(&session_id)) {
          corrupt = Corrupt(kEndedTable, "an ended session");
          return false;
        }
        sessions->ended_.Add(std::move(session_id),
                             absl::FromUnixMicros(forget_micros), now);
        return true;
      }));
  MB_RETURN_IF_ERROR(corrupt);
  return sessions;
}

absl::Status Sessions::Issue(absl::string_view session_id, SessionRow& session,
                             absl::Time now, store::WriteBatch& batch,
                             v1::LoginResponse* response) {
  const absl::Time access_expires =
      WholeSeconds(now + options_.access_token_lifetime);
  MB_ASSIGN_OR_RETURN(
      std::string access_token,
      signer_.Sign({session.member_number, std::string(session_id), now,
                    access_expires}));
  const std::string refresh_token = RandomBase64Url(kRefreshTokenBytes);
  RefreshRow refresh{std::string(session_id),
                     now + options_.refresh_token_lifetime, false};
  batch.Put(kRefreshTable, Sha256Bytes(refresh_token), refresh.Encode());
  session.access_expires = std::max(session.access_expires, access_expires);
  batch.Put(kSessionsTable, store::KeyBuilder().String(session_id).Build(),
            session.Encode());

  response->set_access_token(std::move(access_token));
  *response->mutable_access_token_expires() =
      TimeUtil::MicrosecondsToTimestamp(Micros(access_expires));
  response->set_refresh_token(refresh_token);
  *response->mutable_refresh_token_expires() =
      TimeUtil::MicrosecondsToTimestamp(Micros(refresh.expires));
  response->set_member_number(session.member_number);
  return absl::OkStatus();
}

absl::StatusOr<v1::LoginResponse> Sessions::Start(
    absl::string_view member_number) {
  const std::string session_id = crypto::RandomHex(16);
  SessionRow session;
  session.member_number = std::string(member_number);
  store::WriteBatch batch = store_->NewBatch();
  v1::LoginResponse response;
  MB_RETURN_IF_ERROR(Issue(session_id, session, clock_(), batch, &response));
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  log::Info("session_started", {{"member_number", session.member_number},
                                {"session_id", session_id}});
  return response;
}

absl::StatusOr<Principal> AuthenticateAccessToken(
    const TokenSigner& signer, const EndedSessions& ended,
    absl::string_view access_token, absl::Time now) {
  MB_ASSIGN_OR_RETURN(AccessClaims claims, signer.Verify(access_token, now));
  if (ended.Contains(claims.session_id)) return SessionEnded();
  Principal principal;
  principal.kind = Principal::Kind::kMember;
  principal.member_number = std::move(claims.member_number);
  principal.session_id = std::move(claims.session_id);
  return principal;
}

absl::StatusOr<Principal> Sessions::Authenticate(
    absl::string_view access_token) const {
  return AuthenticateAccessToken(signer_, ended_, access_token, clock_());
}

absl::StatusOr<v1::LoginResponse> Sessions::Refresh(
    absl::string_view refresh_token) {
  std::optional<std::string> raw = Base64UrlDecode(refresh_token);
  if (!raw || raw->size() != kRefreshTokenBytes) return RefreshNotValid();
  const std::string hash = Sha256Bytes(refresh_token);

  v1::LoginResponse response;
  uint64_t ticket = 0;
  bool reused = false;
  {
    absl::MutexLock lock(&mutex_);
    const absl::Time now = clock_();
    MB_ASSIGN_OR_RETURN(std::optional<std::string> refresh_value,
                        store_->GetLatest(kRefreshTable, hash));
    if (!refresh_value) return RefreshNotValid();
    RefreshRow refresh;
    if (!refresh.Decode(*refresh_value)) {
      return Corrupt(kRefreshTable, "a refresh token");
    }
    const std::string session_key =
        store::KeyBuilder().String(refresh.session_id).Build();
    MB_ASSIGN_OR_RETURN(std::optional<std::string> session_value,
                        store_->GetLatest(kSessionsTable, session_key));
    // Purge deletes a session only once none of its refresh tokens can be
    // exchanged (unless the refresh lifetime was shortened since).
    if (!session_value) return RefreshNotValid();
    SessionRow session;
    if (!session.Decode(*session_value)) {
      return Corrupt(kSessionsTable, refresh.session_id);
    }
    if (!session.live()) return SessionEnded();
    store::WriteBatch batch = store_->NewBatch();
    if (refresh.used) {
      MarkEnded(refresh.session_id, session, now, batch);
      reused = true;
      log::Warning("refresh_token_reused",
                   {{"member_number", session.member_number},
                    {"session_id", refresh.session_id}});
    } else {
      if (now >= refresh.expires) {
        return absl::UnauthenticatedError("refresh token has expired");
      }
      refresh.used = true;
      batch.Put(kRefreshTable, hash, refresh.Encode());
      MB_RETURN_IF_ERROR(
          Issue(refresh.session_id, session, now, batch, &response));
    }
    ticket = store_->Enqueue(batch);
  }
  store_->Wait(ticket);
  if (reused) {
    return absl::UnauthenticatedError(
        "refresh token was already used; the session has ended, log in "
        "again");
  }
  return response;
}

absl::Status Sessions::End(absl::string_view session_id) {
  return EndUntil(session_id).status();
}

absl::StatusOr<absl::Time> Sessions::EndUntil(absl::string_view session_id) {
  uint64_t ticket = 0;
  SessionRow session;
  {
    absl::MutexLock lock(&mutex_);
    MB_ASSIGN_OR_RETURN(
        std::optional<std::string> value,
        store_->GetLatest(kSessionsTable,
                          store::KeyBuilder().String(session_id).Build()));
    if (!value) return NotFoundField("session_id", "no such session");
    if (!session.Decode(*value)) return Corrupt(kSessionsTable, session_id);
    if (!session.live()) return session.access_expires;
    store::WriteBatch batch = store_->NewBatch();
    MarkEnded(session_id, session, clock_(), batch);
    ticket = store_->Enqueue(batch);
  }
  store_->Wait(ticket);
  return session.access_expires;
}

void Sessions::MarkEnded(absl::string_view session_id, SessionRow& session,
                         absl::Time now, store::WriteBatch& batch) {
  session.ended = now;
  batch.Put(kSessionsTable, store::KeyBuilder().String(session_id).Build(),
            session.Encode());
  batch.Put(kEndedTable, EndedKey(session.access_expires, session_id), "");
  // In memory before the batch is even durable: refusing a token early is
  // harmless, accepting one after the logout returned is not.
  ended_.Add(std::string(session_id), session.access_expires, now);
  log::Info("session_ended", {{"member_number", session.member_number},
                              {"session_id", session_id}});
}

absl::Time Sessions::Forgettable(const SessionRow& session) const {
  // Every refresh token was handed out with an access token that expires
  // no earlier than a refresh lifetime before it does.
  return session.live()
             ? session.access_expires + options_.refresh_token_lifetime
             : session.access_expires;
}

absl::StatusOr<int64_t> Sessions::Purge() {
  const absl::Time now = clock_();
  // Exchanged refresh tokens are kept until they expire too: presenting one
  // again before then ends its session (reuse of a stolen copy).
  MB_ASSIGN_OR_RETURN(
      int64_t refresh_tokens,
      PurgeTable(kRefreshTable, {}, /*recheck=*/false,
                 [now](absl::string_view value) -> absl::StatusOr<bool> {
                   RefreshRow refresh;
                   if (!refresh.Decode(value)) {
                     return Corrupt(kRefreshTable, "a refresh token");
                   }
                   return refresh.expires <= now;
                 }));
  MB_ASSIGN_OR_RETURN(
      int64_t sessions,
      PurgeTable(kSessionsTable, {}, /*recheck=*/true,
                 [this, now](absl::string_view value) -> absl::StatusOr<bool> {
                   SessionRow session;
                   if (!session.Decode(value)) {
                     return Corrupt(kSessionsTable, "a session");
                   }
                   return Forgettable(session) <= now;
                 }));
  MB_ASSIGN_OR_RETURN(
      int64_t ended,
      PurgeTable(kEndedTable,
                 {"", store::KeyBuilder().Int64(Micros(now)).Build()},
                 /*recheck=*/false,
                 [](absl::string_view) -> absl::StatusOr<bool> { return true; }));
  const int64_t purged = refresh_tokens + sessions + ended;
  if (purged > 0) {
    log::Info("sessions_purged", {{"refresh_tokens", refresh_tokens},
                                  {"sessions", sessions},
                                  {"ended_sessions", ended}});
  }
  return purged;
}

absl::StatusOr<int64_t> Sessions::PurgeTable(
    const char* table, const store::ScanRange& range, bool recheck,
    const std::function<absl::StatusOr<bool>(absl::string_view value)>& dead) {
  int64_t purged = 0;
  store::ScanRange chunk = range;
  while (true) {
    std::vector<std::string> doomed;
    std::string last_key;
    size_t scanned = 0;
    absl::Status judged;
    MB_RETURN_IF_ERROR(store_->Scan(
        table, chunk, [&](absl::string_view key, absl::string_view value) {
          absl::StatusOr<bool> gone = dead(value);
          if (!gone.ok()) {
            judged = gone.status();
            return false;
          }
          if (*gone) doomed.emplace_back(key);
          last_key.assign(key.data(), key.size());
          return ++scanned < options_.purge_chunk_rows;
        }));
    MB_RETURN_IF_ERROR(judged);
    if (!doomed.empty()) {
      uint64_t ticket = 0;
      {
        absl::MutexLock lock(&mutex_);
        store::WriteBatch batch = store_->NewBatch();
        for (const std::string& key : doomed) {
          if (recheck) {
            MB_ASSIGN_OR_RETURN(std::optional<std::string> value,
                                store_->GetLatest(table, key));
            if (!value) continue;
            MB_ASSIGN_OR_RETURN(bool gone, dead(*value));
            if (!gone) continue;
          }
          batch.Delete(table, key);
          ++purged;
        }
        ticket = store_->Enqueue(batch);
      }
      store_->Wait(ticket);
    }
    if (scanned < options_.purge_chunk_rows) return purged;
    // The smallest key after the last one scanned.
    chunk.start = last_key;
    chunk.start.push_back('\0');
  }
}

SessionPurger::SessionPurger(Sessions* sessions, absl::Duration every)
    : thread_([this, sessions, every] {
        while (!stop_.WaitForNotificationWithTimeout(every)) {
          absl::StatusOr<int64_t> purged = sessions->Purge();
          if (!purged.ok()) {
            log::Error("sessions_purge_failed",
                       {{"error", purged.status().ToString()}});
          }
        }
      }) {}

SessionPurger::~SessionPurger() {
  stop_.Notify();
  thread_.join();
}

}  // namespace mileagebank::gateway
