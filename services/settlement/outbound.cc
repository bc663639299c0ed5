#include "services/settlement/outbound.h"

#include <algorithm>
#include <fstream>
#include <streambuf>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/crypto/password.h"
#include "libs/log/log.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"

namespace mileagebank::settlement {
namespace {

using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::MessageDifferencer;
using outbound_records::FileRef;
using outbound_records::Generation;
using outbound_records::StoredFile;
using outbound_records::StoredRecord;

constexpr char kRecordsTable[] = "outbound_records";
constexpr char kTicketsTable[] = "outbound_tickets";
constexpr char kByTimeTable[] = "outbound_by_time";
constexpr char kByPartnerTable[] = "outbound_by_partner";
constexpr char kPendingTable[] = "outbound_pending";
constexpr char kFilesTable[] = "outbound_files";
constexpr char kFileRecordsTable[] = "outbound_file_records";
constexpr char kDatesTable[] = "outbound_dates";
constexpr char kGenerationsTable[] = "outbound_generations";
constexpr char kRefusedFilesTable[] = "outbound_refused_files";
constexpr char kRefusedFileRecordsTable[] = "outbound_refused_file_records";

constexpr int kMaxFlights = 1'000;
constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;
constexpr int64_t kMaxSeq = 999'999;
constexpr size_t kMaxChunkBytes = size_t{1} << 20;
// Bounds of FormatOutboundFile's lines beyond their variable fields (the
// H and T lines, and a D line's fixed parts and numbers).
constexpr uint64_t kFrameBytes = 64;
constexpr uint64_t kDetailFixedBytes = 64;

// ---------------------------------------------------------------------------
// Field rules

bool IsCode(absl::string_view text, size_t min_size, size_t max_size) {
  return text.size() >= min_size && text.size() <= max_size &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

bool IsDigits(absl::string_view text, size_t size) {
  return text.size() == size &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

bool IsUpperLetters(absl::string_view text, size_t size) {
  return text.size() == size &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isupper(c); });
}

// The number of code points when `text` is well-formed UTF-8 (shortest
// forms, no surrogates, at most U+10FFFF); nullopt otherwise.
absl::optional<size_t> Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    int more = 0;
    uint32_t point = lead;
    if (lead >= 0xC2 && lead <= 0xDF) {
      more = 1;
      point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      more = 2;
      point = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      more = 3;
      point = lead & 0x07;
    } else if (lead >= 0x80) {
      return absl::nullopt;
    }
    if (i + more >= text.size() && more > 0) return absl::nullopt;
    for (int k = 1; k <= more; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return absl::nullopt;
      point = (point << 6) | (next & 0x3F);
    }
    if ((more == 2 && point < 0x800) ||
        (more == 3 && (point < 0x10000 || point > 0x10FFFF)) ||
        (point >= 0xD800 && point <= 0xDFFF)) {
      return absl::nullopt;
    }
    i += more + 1;
  }
  return count;
}

// A booked name as the outbound file can carry it unquoted.
void CheckName(FieldErrors& errors, const std::string& field,
               absl::string_view name, size_t min_size, size_t max_size) {
  absl::optional<size_t> length = Utf8Length(name);
  if (!length.has_value()) {
    errors.Add(field, "must be UTF-8");
    return;
  }
  if (*length < min_size || *length > max_size) {
    errors.Add(field, absl::StrCat("must be ", min_size, "-", max_size,
                                   " characters"));
    return;
  }
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == ',' || c == '"' || u < 0x20 || u == 0x7F) {
      errors.Add(field, "must hold no commas, quotes or control characters");
      return;
    }
  }
}

// The status of one item of a batch request, as the wire carries it.
common::v1::Status ItemStatus(const absl::Status& status) {
  common::v1::Status item;
  item.set_code(static_cast<int>(status.code()));
  item.set_message(std::string(status.message()));
  std::optional<common::v1::ErrorDetails> details = GetErrorDetails(status);
  if (details.has_value()) item.add_details()->PackFrom(*details);
  return item;
}

// ---------------------------------------------------------------------------
// Keys

std::string PartnerLock(absl::string_view partner) {
  return absl::StrCat("partner:", partner);
}

std::string TicketKey(absl::string_view ticket, int32_t coupon) {
  return store::KeyBuilder().String(ticket).Int64(coupon).Build();
}

int64_t CreatedMicros(const v1::OutboundRecord& record) {
  return absl::ToUnixMicros(
      validation::FromProtoTimestamp(record.created_at()));
}

std::string ByTimeKey(const v1::OutboundRecord& record) {
  return store::KeyBuilder()
      .Int64(CreatedMicros(record))
      .String(record.record_id())
      .Build();
}

// The key of the record in outbound_by_partner and outbound_pending.
std::string ByPartnerKey(const v1::OutboundRecord& record) {
  return store::KeyBuilder()
      .String(record.flight().partner_code())
      .Int64(CreatedMicros(record))
      .String(record.record_id())
      .Build();
}

std::string FileKey(absl::string_view partner, int64_t seq) {
  return store::KeyBuilder().String(partner).Int64(seq).Build();
}

std::string FileRecordKey(absl::string_view partner, int64_t seq,
                          int64_t record_number) {
  return store::KeyBuilder(FileKey(partner, seq)).Int64(record_number).Build();
}

// A refused file's key; its record rows continue it with Int64(number).
std::string RefusedFileKey(absl::string_view partner, int64_t seq,
                           int64_t refused_micros, absl::string_view file_id) {
  return store::KeyBuilder(FileKey(partner, seq))
      .Int64(refused_micros)
      .String(file_id)
      .Build();
}

std::string DateKey(absl::CivilDay date) {
  return store::KeyBuilder().Day(date).Build();
}

std::string DatePartnerKey(absl::CivilDay date, absl::string_view partner) {
  return store::KeyBuilder().Day(date).String(partner).Build();
}

// "<created µs>-<record_id>": where a listing page ended.
std::string PageToken(const v1::OutboundRecord& record) {
  return absl::StrCat(CreatedMicros(record), "-", record.record_id());
}

// ---------------------------------------------------------------------------
// Acknowledgements

// A digest of what SameAcknowledgementContent compares, each value framed
// by its length so that no two contents share a digest input.
std::string AcknowledgementDigest(const OutboundAcknowledgement& ack) {
  crypto::Sha256 sha;
  auto add = [&sha](absl::string_view value) {
    sha.Update(absl::StrCat(value.size(), ":"));
    sha.Update(value);
  };
  add(absl::StrCat(ack.seq));
  add(v1::FileRefusalCode_Name(ack.file_refusal_code));
  add(ack.file_refusal_message);
  add(absl::StrCat(ack.count, ",", ack.accepted, ",", ack.rejected, ",",
                   ack.total_miles_credited, ",", ack.records.size()));
  for (const v1::AcknowledgedRecord& record : ack.records) {
    add(absl::StrCat(record.record_number(), ",", record.status(), ",",
                     record.miles()));
    add(record.reason());
  }
  return sha.HexDigest();
}

// An acknowledgement that the partner sent wrongly (as opposed to a fault
// of this process): the drop-folder path files it away after logging why.
bool IsSendersFault(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

// The chunks of an upload as one byte stream for the parser, pulled as the
// parser reads, so that only one chunk is in memory. A message breaking the
// stream's rules ends it; status() then says which.
class UploadStreamBuf : public std::streambuf {
 public:
  explicit UploadStreamBuf(const Outbound::ReadUploadMessage& read)
      : read_(read) {}

  // Reads what the parser left unread (it stops at the first fault), so that
  // every message of the request is checked before anything is decided.
  void Drain() {
    while (!done_) Fetch();
  }
  const absl::Status& status() const { return status_; }

 protected:
  int_type underflow() override {
    while (gptr() == egptr()) {
      if (done_) return traits_type::eof();
      Fetch();
    }
    return traits_type::to_int_type(*gptr());
  }

 private:
  void Fetch() {
    v1::UploadOutboundAcknowledgementRequest message;
    if (!read_(&message)) {
      done_ = true;
      return;
    }
    if (message.part_case() ==
        v1::UploadOutboundAcknowledgementRequest::kMetadata) {
      Fail(InvalidField("metadata", "must come once, as the first message"));
      return;
    }
    if (message.part_case() !=
        v1::UploadOutboundAcknowledgementRequest::kChunk) {
      Fail(InvalidField("chunk", "each message after the metadata is a chunk"));
      return;
    }
    const size_t size = message.chunk().size();
    if (size > kMaxChunkBytes) {
      Fail(InvalidField("chunk", "at most 1 MiB per message"));
      return;
    }
    total_ += size;
    if (total_ > kMaxOutboundFileBytes) {
      Fail(InvalidField("chunk", "an acknowledgement is at most 1 GiB"));
      return;
    }
    chunk_.swap(*message.mutable_chunk());
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
  }

  void Fail(absl::Status status) {
    status_ = std::move(status);
    done_ = true;
    setg(nullptr, nullptr, nullptr);
  }

  const Outbound::ReadUploadMessage& read_;
  std::string chunk_;
  uint64_t total_ = 0;
  bool done_ = false;
  absl::Status status_;
};

// The created time of an outbound file that an interrupted generation left
// in the outbox under `path` (written, never recorded), so that the retry
// writes the same bytes when the same records wait; nullopt when there is
// none.
absl::optional<absl::Time> LeftoverCreated(const std::string& path,
                                           absl::string_view host,
                                           int64_t seq) {
  std::ifstream input(path, std::ios::binary);
  std::string line;
  if (!input || !std::getline(input, line)) return absl::nullopt;
  const std::string prefix = absl::StrFormat("H,%s,%06d,", host, seq);
  absl::string_view rest(line);
  if (!absl::ConsumePrefix(&rest, prefix) ||
      !absl::ConsumeSuffix(&rest, ",1")) {
    return absl::nullopt;
  }
  absl::Time created;
  std::string error;
  if (rest.size() != 20 ||
      !absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", rest, &created, &error)) {
    return absl::nullopt;
  }
  return created;
}

}  // namespace

Outbound::Outbound(store::Store* store, Partners* partners,
                   DropFolders* folders, PurchaseLedger* purchases,
                   std::string host_carrier,
                   const airports::AirportTable* airports, Clock clock)
    : store_(store),
      partners_(partners),
      folders_(folders),
      purchases_(purchases),
      host_(std::move(host_carrier)),
      airports_(airports),
      clock_(std::move(clock)) {}

std::vector<std::string> Outbound::Tables() {
  return {kRecordsTable,
          kTicketsTable,
          kByTimeTable,
          kByPartnerTable,
          kPendingTable,
          kFilesTable,
          kFileRecordsTable,
          kDatesTable,
          kGenerationsTable,
          kRefusedFilesTable,
          kRefusedFileRecordsTable};
}

absl::CivilDay Outbound::Today() const { return validation::UtcDay(clock_()); }

void Outbound::CheckFlight(const v1::OutboundFlight& flight,
                           const std::string& at, FieldErrors& errors) const {
  if (!IsCode(flight.partner_code(), 2, 8)) {
    errors.Add(at + ".partner_code", "must be 2-8 characters of A-Z and 0-9");
  }
  if (!IsCode(flight.partner_member_number(), 1, 20)) {
    errors.Add(at + ".partner_member_number",
               "must be 1-20 characters of A-Z and 0-9");
  }
  CheckName(errors, at + ".family_name", flight.family_name(), 1, 40);
  CheckName(errors, at + ".given_name", flight.given_name(), 0, 40);
  if (!IsDigits(flight.ticket_number(), 13)) {
    errors.Add(at + ".ticket_number", "must be 13 digits");
  }
  if (flight.coupon_number() < 1 || flight.coupon_number() > 4) {
    errors.Add(at + ".coupon_number", "must be 1 to 4");
  }
  if (flight.carrier() != host_) {
    errors.Add(at + ".carrier",
               absl::StrCat("must be the host carrier ", host_));
  }
  if (flight.flight_number() < 1 || flight.flight_number() > 9999) {
    errors.Add(at + ".flight_number", "must be 1 to 9999");
  }
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay(at + ".flight_date", flight.flight_date());
  if (!date.ok()) {
    errors.Merge("", date.status());
  } else if (*date > Today()) {
    errors.Add(at + ".flight_date",
               absl::StrCat("must not be after today, ",
                            validation::FormatDate(Today())));
  }
  auto check_airport = [&](const std::string& field, const std::string& code) {
    if (!IsUpperLetters(code, 3)) {
      errors.Add(field, "must be an IATA airport code, 3 upper-case letters");
    } else if (airports_->Find(code) == nullptr) {
      errors.Add(field, absl::StrCat(code, " is not in the airport table"));
    }
  };
  check_airport(at + ".origin", flight.origin());
  check_airport(at + ".destination", flight.destination());
  if (!flight.origin().empty() && flight.origin() == flight.destination()) {
    errors.Add(at + ".destination", "must differ from origin");
  }
  if (!IsUpperLetters(flight.booking_class(), 1)) {
    errors.Add(at + ".booking_class", "must be one upper-case letter A-Z");
  }
}

absl::StatusOr<v1::Partner> Outbound::FindAirline(absl::string_view code,
                                                  const std::string& field) {
  absl::StatusOr<v1::Partner> partner = partners_->Find(code);
  if (partner.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField(field, absl::StrCat("no partner ", code));
  }
  if (!partner.ok()) return partner.status();
  if (partner->type() != v1::AIRLINE) {
    return FailedPreconditionField(
        field,
        absl::StrCat(code, " is a ", v1::PartnerType_Name(partner->type()),
                     " partner; outbound files go to AIRLINE partners"));
  }
  return partner;
}

absl::StatusOr<StoredRecord> Outbound::LatestRecord(absl::string_view record_id,
                                                    uint64_t* ticket) const {
  StoredRecord stored;
  MB_ASSIGN_OR_RETURN(
      bool found,
      store_->GetLatestProto(kRecordsTable,
                             store::KeyBuilder().String(record_id).Build(),
                             &stored, ticket));
  if (!found) {
    return NotFoundField("record_id",
                         absl::StrCat("no outbound record ", record_id));
  }
  return stored;
}

void Outbound::PutRecord(store::WriteBatch& batch, const StoredRecord& stored,
                         const StoredRecord* before) const {
  const v1::OutboundRecord& record = stored.record();
  batch.PutProto(kRecordsTable,
                 store::KeyBuilder().String(record.record_id()).Build(),
                 stored);
  const bool was_pending =
      before != nullptr && before->record().status() == v1::OUTBOUND_PENDING;
  const bool is_pending = record.status() == v1::OUTBOUND_PENDING;
  if (is_pending && !was_pending) {
    batch.Put(kPendingTable, ByPartnerKey(record), "");
  } else if (was_pending && !is_pending) {
    batch.Delete(kPendingTable, ByPartnerKey(record));
  }
}

absl::StatusOr<std::vector<StoredFile>> Outbound::RefusedFiles(
    absl::string_view partner_code, int64_t seq) const {
  std::vector<StoredFile> refused;
  absl::Status failed;
  MB_RETURN_IF_ERROR(store_->Scan(
      kRefusedFilesTable, store::PrefixRange(FileKey(partner_code, seq)),
      [&](absl::string_view, absl::string_view value) {
        StoredFile& stored = refused.emplace_back();
        if (!stored.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          failed = absl::DataLossError(absl::StrFormat(
              "outbound refused file %s %06d: unreadable", partner_code, seq));
          return false;
        }
        return true;
      }));
  MB_RETURN_IF_ERROR(failed);
  return refused;
}

absl::StatusOr<absl::optional<int64_t>> Outbound::RewindSequence(
    const std::string& partner_code, int64_t seq, store::WriteBatch& batch) {
  MB_ASSIGN_OR_RETURN(v1::Partner partner, partners_->Find(partner_code));
  if (partner.last_outbound_file_seq() != seq) return absl::nullopt;
  int64_t last = seq - 1;
  // A file below, refused too and not sent again (its refusal recorded
  // while this one was out), was never accepted either: the partner's
  // programme still expects its seq.
  while (last >= 1) {
    MB_ASSIGN_OR_RETURN(
        std::optional<std::string> live,
        store_->GetLatest(kFilesTable, FileKey(partner_code, last)));
    if (live.has_value()) break;
    MB_ASSIGN_OR_RETURN(std::vector<StoredFile> refused,
                        RefusedFiles(partner_code, last));
    if (refused.empty()) break;
    --last;
  }
  partner.set_last_outbound_file_seq(static_cast<int32_t>(last));
  partners_->Stage(partner, batch);
  return last;
}

absl::StatusOr<StoredFile> Outbound::GeneratedFile(absl::CivilDay date,
                                                   const FileRef& ref,
                                                   uint64_t* ticket) {
  const common::v1::Date file_date = validation::ToProtoDate(date);
  auto is_it = [&](const StoredFile& stored) {
    return ref.file_id().empty() ? MessageDifferencer::Equals(
                                       stored.file().file_date(), file_date)
                                 : stored.file().file_id() == ref.file_id();
  };
  StoredFile live;
  MB_ASSIGN_OR_RETURN(
      bool found,
      store_->GetLatestProto(
          kFilesTable, FileKey(ref.partner_code(), ref.seq()), &live, ticket));
  if (found && is_it(live)) return live;
  // Refused since: moved by a batch that may still be in line.
  store_->WaitForQueued();
  *ticket = 0;
  MB_ASSIGN_OR_RETURN(std::vector<StoredFile> refused,
                      RefusedFiles(ref.partner_code(), ref.seq()));
  for (StoredFile& stored : refused) {
    if (is_it(stored)) return std::move(stored);
  }
  return absl::DataLossError(
      absl::StrFormat("outbound file %s %06d of a generation is missing",
                      ref.partner_code(), ref.seq()));
}

// ---------------------------------------------------------------------------
// Submitting flights

absl::StatusOr<v1::SubmitOutboundFlightsResponse>
Outbound::SubmitOutboundFlights(
    const v1::SubmitOutboundFlightsRequest& request) {
  if (request.flights_size() < 1 || request.flights_size() > kMaxFlights) {
    return InvalidField("flights", "must hold 1 to 1,000 flights");
  }
  v1::SubmitOutboundFlightsResponse response;
  uint64_t last_ticket = 0;
  int64_t recorded = 0, replays = 0, failed = 0;
  for (int i = 0; i < request.flights_size(); ++i) {
    const v1::OutboundFlight& flight = request.flights(i);
    const std::string at = absl::StrCat("flights[", i, "]");
    v1::OutboundFlightResult* result = response.add_results();
    result->set_index(i);
    FieldErrors errors;
    CheckFlight(flight, at, errors);
    absl::Status checked = errors.ToStatus();
    if (checked.ok()) {
      checked =
          FindAirline(flight.partner_code(), at + ".partner_code").status();
    }
    bool replayed = false;
    uint64_t ticket = 0;
    absl::StatusOr<v1::OutboundRecord> record =
        checked.ok() ? SubmitOne(flight, i, &replayed, &ticket)
                     : absl::StatusOr<v1::OutboundRecord>(checked);
    if (!record.ok()) {
      switch (record.status().code()) {
        case absl::StatusCode::kInvalidArgument:
        case absl::StatusCode::kNotFound:
        case absl::StatusCode::kFailedPrecondition:
        case absl::StatusCode::kAlreadyExists:
          break;
        default:
          return record
              .status();  // The store failed: no answer can be trusted.
      }
      ++failed;
      *result->mutable_error() = ItemStatus(record.status());
      continue;
    }
    ++(replayed ? replays : recorded);
    last_ticket = std::max(last_ticket, ticket);
    result->set_replayed(replayed);
    *result->mutable_record() = *std::move(record);
  }
  // Every batch was put in line in order: the last one durable means all.
  if (last_ticket != 0) store_->Wait(last_ticket);
  log::Info("outbound_flights_submitted",
            {{"flights", request.flights_size()},
             {"recorded", recorded},
             {"replayed", replays},
             {"failed", failed},
             {"channel", common::v1::Channel_Name(request.actor().channel())}});
  return response;
}

absl::StatusOr<v1::OutboundRecord> Outbound::SubmitOne(
    const v1::OutboundFlight& flight, int index, bool* replayed,
    uint64_t* ticket) {
  const std::string ticket_key =
      TicketKey(flight.ticket_number(), flight.coupon_number());
  const std::string ticket_lock = absl::StrCat(
      "ticket:", flight.ticket_number(), "/", flight.coupon_number());
  store::KeyLocks::Guard guard =
      locks_.Lock({ticket_lock, PartnerLock(flight.partner_code())});
  uint64_t index_ticket = 0;
  MB_ASSIGN_OR_RETURN(
      std::optional<std::string> existing_id,
      store_->GetLatest(kTicketsTable, ticket_key, &index_ticket));
  if (existing_id.has_value()) {
    absl::StatusOr<StoredRecord> found = LatestRecord(*existing_id, ticket);
    if (!found.ok()) {
      return found.status().code() == absl::StatusCode::kNotFound
                 ? absl::DataLossError(absl::StrCat("outbound record ",
                                                    *existing_id,
                                                    " is indexed but missing"))
                 : found.status();
    }
    const StoredRecord& stored = *found;
    *ticket = std::max(*ticket, index_ticket);
    if (!MessageDifferencer::Equals(stored.submitted(), flight)) {
      return AlreadyExistsError(
          absl::StrCat("flights[", index, "]: ticket ", flight.ticket_number(),
                       " coupon ", flight.coupon_number(),
                       " is recorded already with another flight"),
          *existing_id);
    }
    *replayed = true;
    return stored.record();
  }
  const absl::Time now = clock_();
  StoredRecord stored;
  v1::OutboundRecord* record = stored.mutable_record();
  record->set_record_id(crypto::RandomHex(12));
  *record->mutable_flight() = flight;
  record->set_status(v1::OUTBOUND_PENDING);
  record->set_version(1);
  *record->mutable_created_at() = validation::ToProtoTimestamp(now);
  *stored.mutable_submitted() = flight;
  store::WriteBatch batch = store_->NewBatch();
  PutRecord(batch, stored, nullptr);
  batch.Put(kTicketsTable, ticket_key, record->record_id());
  batch.Put(kByTimeTable, ByTimeKey(*record), "");
  batch.Put(kByPartnerTable, ByPartnerKey(*record), "");
  *ticket = store_->Enqueue(batch);
  *replayed = false;
  return stored.record();
}

// ---------------------------------------------------------------------------
// Generating the day's files

absl::StatusOr<v1::GenerateOutboundFilesResponse>
Outbound::GenerateOutboundFiles(
    const v1::GenerateOutboundFilesRequest& request) {
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay("file_date", request.file_date());
  if (!date.ok()) return date.status();
  if (*date > Today()) {
    return InvalidField("file_date",
                        absl::StrCat("must not be after today, ",
                                     validation::FormatDate(Today())));
  }

  absl::MutexLock generating(&generate_mutex_);
  Generation generation;
  MB_ASSIGN_OR_RETURN(
      bool done,
      store_->GetLatestProto(kGenerationsTable, DateKey(*date), &generation));
  if (!done) {
    // Partners registered a moment ago are in line, not yet scannable.
    store_->WaitForQueued();
    std::vector<std::string> airlines;
    absl::Status unreadable;
    MB_RETURN_IF_ERROR(store_->Scan(
        kPartnersTable, store::ScanRange{},
        [&](absl::string_view, absl::string_view value) {
          v1::Partner partner;
          if (!partner.ParseFromArray(value.data(),
                                      static_cast<int>(value.size()))) {
            unreadable =
                absl::DataLossError("settlement partners: unreadable record");
            return false;
          }
          if (partner.type() == v1::AIRLINE)
            airlines.push_back(partner.partner_code());
          return true;
        }));
    MB_RETURN_IF_ERROR(unreadable);
    const absl::Time now = clock_();
    for (const std::string& code : airlines) {
      MB_ASSIGN_OR_RETURN(absl::optional<FileRef> file,
                          GenerateFor(*date, code, now));
      if (file.has_value()) *generation.add_files() = *std::move(file);
    }
    *generation.mutable_completed_at() = validation::ToProtoTimestamp(now);
    store::WriteBatch batch = store_->NewBatch();
    batch.PutProto(kGenerationsTable, DateKey(*date), generation);
    // Also waits for every partner's batch, put in line before it.
    MB_RETURN_IF_ERROR(store_->Commit(batch));
    log::Info("outbound_files_generated",
              {{"file_date", validation::FormatDate(*date)},
               {"files", generation.files_size()}});
  }
  v1::GenerateOutboundFilesResponse response;
  for (const FileRef& ref : generation.files()) {
    uint64_t ticket = 0;
    MB_ASSIGN_OR_RETURN(StoredFile stored, GeneratedFile(*date, ref, &ticket));
    if (ticket != 0) store_->Wait(ticket);
    if (!done) {
      log::Info("outbound_file_generated",
                {{"partner", ref.partner_code()},
                 {"seq", ref.seq()},
                 {"file_name", stored.file().file_name()},
                 {"file_date", validation::FormatDate(*date)},
                 {"records", stored.file().record_count()}});
    }
    *response.add_files() = stored.file();
  }
  return response;
}

absl::StatusOr<absl::optional<FileRef>> Outbound::GenerateFor(
    absl::CivilDay date, const std::string& partner_code, absl::Time now) {
  store::KeyLocks::Guard records_guard = locks_.Lock(PartnerLock(partner_code));
  store::KeyLocks::Guard partner_guard = partners_->Lock(partner_code);
  FileRef ref;
  MB_ASSIGN_OR_RETURN(
      bool written, store_->GetLatestProto(
                        kDatesTable, DatePartnerKey(date, partner_code), &ref));
  if (written) return ref;  // By a run that stopped before the date was done.
  MB_ASSIGN_OR_RETURN(v1::Partner partner, partners_->Find(partner_code));
  if (partner.type() != v1::AIRLINE || partner.status() != v1::ACTIVE) {
    return absl::nullopt;
  }
  const int64_t seq = int64_t{partner.last_outbound_file_seq()} + 1;
  if (seq > kMaxSeq) {
    log::Error("outbound_sequence_exhausted", {{"partner", partner_code}});
    return absl::nullopt;
  }

  // Submissions and resends for this partner were put in line under the
  // lock held now; the pending index is scanned once they are durable.
  store_->WaitForQueued();
  uint64_t bytes = kFrameBytes;
  absl::Status failed;
  std::vector<StoredRecord> pending;
  MB_RETURN_IF_ERROR(store_->Scan(
      kPendingTable,
      store::PrefixRange(store::KeyBuilder().String(partner_code).Build()),
      [&](absl::string_view key, absl::string_view) {
        store::KeyReader reader(key);
        std::string code, id;
        int64_t micros = 0;
        if (!reader.String(&code) || !reader.Int64(&micros) ||
            !reader.String(&id)) {
          failed = absl::DataLossError("outbound_pending: unreadable key");
          return false;
        }
        absl::StatusOr<StoredRecord> stored = LatestRecord(id);
        if (!stored.ok()) {
          failed = stored.status();
          return false;
        }
        const v1::OutboundFlight& flight = stored->record().flight();
        const uint64_t line =
            kDetailFixedBytes + flight.partner_member_number().size() +
            flight.family_name().size() + flight.given_name().size();
        // What does not fit the interface's limits waits for the next file.
        if (static_cast<int64_t>(pending.size()) == kMaxOutboundRecords ||
            bytes + line > kMaxOutboundFileBytes) {
          return false;
        }
        bytes += line;
        pending.push_back(*std::move(stored));
        return true;
      }));
  MB_RETURN_IF_ERROR(failed);
  if (pending.empty()) return absl::nullopt;

  const std::string file_name = OutboundFileName(host_, partner_code, seq);
  absl::optional<absl::Time> leftover = LeftoverCreated(
      folders_->OutboxFilePath(partner_code, file_name), host_, seq);
  if (leftover.has_value()) {
    // The outbox may still hold the refused file of this seq, which this
    // one replaces: that is no leftover of an interrupted run.
    MB_ASSIGN_OR_RETURN(std::vector<StoredFile> refused,
                        RefusedFiles(partner_code, seq));
    for (const StoredFile& earlier : refused) {
      if (absl::ToUnixSeconds(validation::FromProtoTimestamp(
              earlier.file().created_at())) == absl::ToUnixSeconds(*leftover)) {
        leftover = absl::nullopt;
        break;
      }
    }
  }
  const absl::Time created = leftover.value_or(now);
  std::vector<v1::OutboundFlight> flights;
  flights.reserve(pending.size());
  for (const StoredRecord& stored : pending)
    flights.push_back(stored.record().flight());
  absl::StatusOr<std::string> contents =
      FormatOutboundFile({host_, partner_code, seq, created}, flights);
  if (!contents.ok()) {
    // Every record passed the same rules when it was stored.
    return absl::InternalError(
        absl::StrCat("outbound file ", file_name,
                     " cannot be written: ", contents.status().message()));
  }
  flights.clear();
  flights.shrink_to_fit();

  store::WriteBatch batch = store_->NewBatch();
  MB_RETURN_IF_ERROR(
      folders_->WriteOutboxFile(partner_code, file_name, *contents, batch)
          .status());
  contents->clear();
  contents->shrink_to_fit();

  StoredFile stored_file;
  v1::OutboundFile* file = stored_file.mutable_file();
  file->set_file_id(crypto::RandomHex(12));
  file->set_partner_code(partner_code);
  file->set_seq(static_cast<int32_t>(seq));
  file->set_file_name(file_name);
  *file->mutable_file_date() = validation::ToProtoDate(date);
  *file->mutable_created_at() = validation::ToProtoTimestamp(created);
  file->set_record_count(static_cast<int64_t>(pending.size()));
  file->set_status(v1::OUTBOUND_FILE_SENT);
  batch.PutProto(kFilesTable, FileKey(partner_code, seq), stored_file);

  for (size_t i = 0; i < pending.size(); ++i) {
    const StoredRecord& before = pending[i];
    StoredRecord after = before;
    v1::OutboundRecord* record = after.mutable_record();
    const int64_t record_number = static_cast<int64_t>(i) + 1;
    record->set_status(v1::OUTBOUND_SENT);
    record->set_file_id(file->file_id());
    record->set_file_seq(file->seq());
    record->set_record_number(record_number);
    record->set_times_sent(record->times_sent() + 1);
    record->set_version(record->version() + 1);
    PutRecord(batch, after, &before);
    batch.Put(kFileRecordsTable,
              FileRecordKey(partner_code, seq, record_number),
              record->record_id());
  }
  partner.set_last_outbound_file_seq(static_cast<int32_t>(seq));
  partners_->Stage(partner, batch);
  ref.set_partner_code(partner_code);
  ref.set_seq(static_cast<int32_t>(seq));
  ref.set_file_id(file->file_id());
  batch.PutProto(kDatesTable, DatePartnerKey(date, partner_code), ref);
  v1::OutboundFileGenerated event;
  *event.mutable_file() = *file;
  batch.AppendEvent(partner_code, event);
  store_->Enqueue(batch);
  return ref;
}

// ---------------------------------------------------------------------------
// Acknowledgements

absl::Status Outbound::CheckSender(absl::string_view partner_code,
                                   const std::string& field) {
  return FindAirline(partner_code, field).status();
}

absl::StatusOr<v1::UploadOutboundAcknowledgementResponse>
Outbound::UploadOutboundAcknowledgement(
    const ReadUploadMessage& read, absl::string_view authenticated_partner) {
  v1::UploadOutboundAcknowledgementRequest first;
  if (!read(&first) || !first.has_metadata()) {
    return InvalidField("metadata", "must come once, as the first message");
  }
  const std::string partner_code = first.metadata().partner_code();
  const std::string file_name = first.metadata().file_name();
  FieldErrors errors;
  if (!IsCode(partner_code, 2, 8)) {
    errors.Add("metadata.partner_code",
               "must be 2-8 characters of A-Z and 0-9");
  }
  if (!file_name.empty()) {
    absl::optional<OutboundAckFileName> name =
        ParseOutboundAckFileName(file_name);
    if (!name.has_value() || name->host_code != host_ ||
        name->partner_code != partner_code) {
      errors.Add("metadata.file_name",
                 absl::StrCat("must be ", host_, "_", partner_code,
                              "_<SEQ>.ack.csv, SEQ 6 digits"));
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  if (!authenticated_partner.empty() && authenticated_partner != partner_code) {
    return absl::PermissionDeniedError(absl::StrCat(
        "metadata.partner_code: the connection is authenticated as "
        "partner ",
        authenticated_partner, ", not ", partner_code));
  }
  MB_RETURN_IF_ERROR(CheckSender(partner_code, "metadata.partner_code"));

  UploadStreamBuf buffer(read);
  std::istream input(&buffer);
  absl::StatusOr<OutboundAcknowledgement> parsed =
      ParseOutboundAcknowledgement(host_, partner_code, file_name, input);
  buffer.Drain();
  MB_RETURN_IF_ERROR(buffer.status());
  return Acknowledge(partner_code, file_name, parsed);
}

absl::StatusOr<v1::UploadOutboundAcknowledgementResponse>
Outbound::ReceiveInboxAcknowledgement(const InboxFile& file) {
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> outcome =
      ReadInboxFile(file);
  if (!outcome.ok()) {
    if (!IsSendersFault(outcome.status())) return outcome;
    log::Warning("outbound_ack_refused",
                 {{"partner", file.partner_code},
                  {"file_name", file.file_name},
                  {"code", absl::StatusCodeToString(outcome.status().code())},
                  {"reason", outcome.status().message()}});
  }
  MB_RETURN_IF_ERROR(
      folders_->MoveToProcessed(file.partner_code, file.file_name));
  return outcome;
}

absl::StatusOr<v1::UploadOutboundAcknowledgementResponse>
Outbound::ReadInboxFile(const InboxFile& file) {
  // The inbox takes any *.ack.csv; one in another form than the upload's is
  // refused as the upload would refuse it.
  absl::optional<OutboundAckFileName> name =
      ParseOutboundAckFileName(file.file_name);
  if (!name.has_value() || name->host_code != host_ ||
      name->partner_code != file.partner_code) {
    return InvalidField("file_name",
                        absl::StrCat(file.file_name, " is not ", host_, "_",
                                     file.partner_code, "_<SEQ>.ack.csv"));
  }
  MB_RETURN_IF_ERROR(CheckSender(file.partner_code, "partner_code"));
  std::ifstream input(file.path, std::ios::binary);
  if (!input) {
    return absl::InternalError(absl::StrCat("cannot open ", file.path));
  }
  absl::StatusOr<OutboundAcknowledgement> parsed = ParseOutboundAcknowledgement(
      host_, file.partner_code, file.file_name, input);
  if (input.bad()) {
    return absl::InternalError(absl::StrCat("cannot read ", file.path));
  }
  return Acknowledge(file.partner_code, file.file_name, parsed);
}

absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> Outbound::Acknowledge(
    const std::string& partner_code, absl::string_view file_name,
    const absl::StatusOr<OutboundAcknowledgement>& parsed) {
  v1::UploadOutboundAcknowledgementResponse response;
  auto refuse = [&](v1::AcknowledgementRefusalCode code, std::string message,
                    int64_t seq) {
    log::Warning("outbound_ack_refused",
                 {{"partner", partner_code},
                  {"file_name", file_name},
                  {"seq", seq},
                  {"code", v1::AcknowledgementRefusalCode_Name(code)},
                  {"reason", message}});
    response.set_accepted(false);
    response.set_refusal_code(code);
    response.set_refusal_message(std::move(message));
    return response;
  };
  if (!parsed.ok()) {
    return refuse(v1::ACK_MALFORMED, std::string(parsed.status().message()), 0);
  }
  const OutboundAcknowledgement& ack = *parsed;
  const std::string digest = AcknowledgementDigest(ack);
  const google::protobuf::Timestamp processed_at =
      validation::ToProtoTimestamp(ack.processed);
  // A repeat of the partner's refusal of a file of this seq that has since
  // been moved out of the live table: nothing changes.
  auto repeat_of_refused = [&](const StoredFile& refused) {
    log::Info("outbound_ack_repeated", {{"partner", partner_code},
                                        {"seq", ack.seq},
                                        {"file_id", refused.file().file_id()},
                                        {"refused_file", true}});
    response.set_accepted(true);
    *response.mutable_file() = refused.file();
    return response;
  };

  uint64_t ticket = 0;
  // Set when this acknowledgement rewound the partner's sequence.
  absl::optional<int64_t> rewound_to;
  {
    store::KeyLocks::Guard guard = locks_.Lock(PartnerLock(partner_code));
    // Whatever was put in line under this lock before (an earlier
    // acknowledgement's moves, the file's record rows) is scanned once
    // durable.
    store_->WaitForQueued();
    MB_ASSIGN_OR_RETURN(std::vector<StoredFile> refused,
                        RefusedFiles(partner_code, ack.seq));
    // An identical copy (content and processed time) of a refusal already
    // recorded, arriving late, perhaps after the file that replaced the
    // refused one was sent under the same seq: it is not about that file.
    for (const StoredFile& earlier : refused) {
      if (earlier.acknowledgement_digest() == digest &&
          MessageDifferencer::Equals(earlier.acknowledgement_processed_at(),
                                     processed_at)) {
        return repeat_of_refused(earlier);
      }
    }
    StoredFile stored;
    MB_ASSIGN_OR_RETURN(
        bool found,
        store_->GetLatestProto(kFilesTable, FileKey(partner_code, ack.seq),
                               &stored, &ticket));
    if (!found && !refused.empty()) {
      // The seq's file was refused and nothing has been sent under it
      // since: the acknowledgement can only be about the refused file.
      for (const StoredFile& earlier : refused) {
        if (earlier.acknowledgement_digest() == digest) {
          return repeat_of_refused(earlier);  // Written again later.
        }
      }
      return refuse(v1::ACK_CONFLICT,
                    absl::StrFormat("file %06d was refused by the partner "
                                    "and has not been sent again since",
                                    ack.seq),
                    ack.seq);
    }
    SentOutboundFile sent;
    sent.seq = ack.seq;
    sent.record_count = stored.file().record_count();
    OutboundAckMatch match =
        MatchOutboundAcknowledgement(ack, found ? &sent : nullptr);
    if (match.refusal.has_value()) {
      return refuse(match.refusal->code, std::move(match.refusal->message),
                    ack.seq);
    }
    if (!stored.acknowledgement_digest().empty()) {
      if (stored.acknowledgement_digest() != digest) {
        return refuse(v1::ACK_CONFLICT,
                      absl::StrFormat("file %06d was already acknowledged "
                                      "differently",
                                      ack.seq),
                      ack.seq);
      }
      if (ticket != 0) store_->Wait(ticket);
      log::Info("outbound_ack_repeated",
                {{"partner", partner_code}, {"seq", ack.seq}});
      response.set_accepted(true);
      *response.mutable_file() = stored.file();
      return response;
    }

    const absl::Time now = clock_();
    const google::protobuf::Timestamp acknowledged_at =
        validation::ToProtoTimestamp(now);
    v1::OutboundFile* file = stored.mutable_file();
    // A refused file leaves the live keys, with its record rows, for a
    // table of refused files: its seq is the partner's to expect again.
    const std::string refused_key =
        ack.file_refused()
            ? RefusedFileKey(partner_code, ack.seq, absl::ToUnixMicros(now),
                             file->file_id())
            : std::string();
    store::WriteBatch batch = store_->NewBatch();
    int64_t accepted = 0, rejected = 0, miles = 0, expected_number = 1;
    absl::Status failed;
    MB_RETURN_IF_ERROR(store_->Scan(
        kFileRecordsTable, store::PrefixRange(FileKey(partner_code, ack.seq)),
        [&](absl::string_view key, absl::string_view record_id) {
          absl::StatusOr<StoredRecord> before = LatestRecord(record_id);
          if (!before.ok()) {
            failed = before.status();
            return false;
          }
          const v1::OutboundRecord& was = before->record();
          if (was.status() != v1::OUTBOUND_SENT ||
              was.file_id() != file->file_id() ||
              was.record_number() != expected_number) {
            failed = absl::DataLossError(
                absl::StrCat("outbound record ", record_id, " is not record ",
                             expected_number, " of file ", file->file_name(),
                             " awaiting acknowledgement"));
            return false;
          }
          StoredRecord after = *before;
          v1::OutboundRecord* record = after.mutable_record();
          *record->mutable_acknowledged_at() = acknowledged_at;
          record->set_version(record->version() + 1);
          if (ack.file_refused()) {
            record->set_status(v1::OUTBOUND_REJECTED);
            record->set_reason(v1::FileRefusalCode_Name(ack.file_refusal_code));
            ++rejected;
            batch.Delete(kFileRecordsTable, key);
            batch.Put(
                kRefusedFileRecordsTable,
                store::KeyBuilder(refused_key).Int64(expected_number).Build(),
                record_id);
          } else {
            const v1::AcknowledgedRecord& line =
                ack.records[expected_number - 1];
            record->set_reason(line.reason());
            record->set_reason_code(line.reason_code());
            record->set_invalid_field(line.invalid_field());
            record->set_miles_credited(line.miles());
            if (line.status() == v1::RECORD_ACCEPTED) {
              record->set_status(v1::OUTBOUND_ACCEPTED);
              ++accepted;
              miles += line.miles();
            } else {
              record->set_status(v1::OUTBOUND_REJECTED);
              ++rejected;
            }
          }
          PutRecord(batch, after, &*before);
          ++expected_number;
          return true;
        }));
    MB_RETURN_IF_ERROR(failed);
    if (expected_number - 1 != file->record_count()) {
      return absl::DataLossError(absl::StrCat(
          "outbound file ", file->file_name(), " holds ", file->record_count(),
          " records but ", expected_number - 1, " are on record"));
    }
    file->set_status(v1::OUTBOUND_FILE_ACKNOWLEDGED);
    *file->mutable_acknowledged_at() = acknowledged_at;
    file->set_records_accepted(accepted);
    file->set_records_rejected(rejected);
    file->set_miles_credited(miles);
    stored.set_acknowledgement_digest(digest);
    *stored.mutable_acknowledgement_processed_at() = processed_at;
    // Held until the batch is in line, as Partners::Stage asks.
    absl::optional<store::KeyLocks::Guard> partner_guard;
    if (ack.file_refused()) {
      batch.Delete(kFilesTable, FileKey(partner_code, ack.seq));
      batch.PutProto(kRefusedFilesTable, refused_key, stored);
      partner_guard.emplace(partners_->Lock(partner_code));
      MB_ASSIGN_OR_RETURN(rewound_to,
                          RewindSequence(partner_code, ack.seq, batch));
    } else {
      batch.PutProto(kFilesTable, FileKey(partner_code, ack.seq), stored);
    }
    MB_RETURN_IF_ERROR(
        purchases_->AddPurchase(partner_code, now, accepted, miles, batch));
    v1::OutboundFileAcknowledged event;
    *event.mutable_file() = *file;
    batch.AppendEvent(partner_code, event);
    ticket = store_->Enqueue(batch);
    *response.mutable_file() = *file;
  }
  store_->Wait(ticket);
  const v1::OutboundFile& file = response.file();
  log::Info(
      "outbound_ack_recorded",
      {{"partner", partner_code},
       {"seq", ack.seq},
       {"file_name", file.file_name()},
       {"refused_by_partner",
        ack.file_refused() ? v1::FileRefusalCode_Name(ack.file_refusal_code)
                           : std::string()},
       {"accepted", file.records_accepted()},
       {"rejected", file.records_rejected()},
       {"miles", file.miles_credited()}});
  if (rewound_to.has_value()) {
    log::Info("outbound_sequence_rewound", {{"partner", partner_code},
                                            {"refused_seq", ack.seq},
                                            {"next_seq", *rewound_to + 1}});
  }
  response.set_accepted(true);
  return response;
}

// ---------------------------------------------------------------------------
// Staff: listing and resending

absl::StatusOr<v1::ListOutboundRecordsResponse> Outbound::ListOutboundRecords(
    const v1::ListOutboundRecordsRequest& request) {
  FieldErrors errors;
  if (!request.partner_code().empty() &&
      !IsCode(request.partner_code(), 2, 8)) {
    errors.Add("partner_code", "must be 2-8 characters of A-Z and 0-9");
  }
  std::vector<int> statuses;
  for (int i = 0; i < request.statuses_size(); ++i) {
    const int status = request.statuses(i);
    if (status == v1::OUTBOUND_RECORD_STATUS_UNSPECIFIED ||
        !v1::OutboundRecordStatus_IsValid(status)) {
      errors.Add(absl::StrCat("statuses[", i, "]"),
                 "not an outbound record status");
    }
    statuses.push_back(status);
  }
  const int page_size = request.page().page_size() == 0
                            ? kDefaultPage
                            : request.page().page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    errors.Add("page.page_size", "must be 0 to 1,000");
  }
  int64_t after_micros = 0;
  std::string after_id;
  if (!request.page().page_token().empty()) {
    const std::string& token = request.page().page_token();
    const size_t dash = token.find('-', token[0] == '-' ? 1 : 0);
    if (dash == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(token).substr(0, dash),
                          &after_micros) ||
        dash + 1 == token.size()) {
      errors.Add("page.page_token", "is not a token this service gave");
    } else {
      after_id = token.substr(dash + 1);
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  if (!request.partner_code().empty()) {
    v1::GetPartnerRequest get;
    get.set_partner_code(request.partner_code());
    MB_RETURN_IF_ERROR(partners_->GetPartner(get).status());
  }

  const bool by_partner = !request.partner_code().empty();
  const std::string prefix =
      by_partner ? store::KeyBuilder().String(request.partner_code()).Build()
                 : "";
  store::ScanRange range = store::PrefixRange(prefix);
  if (!request.page().page_token().empty()) {
    range.start =
        store::KeyBuilder(prefix).Int64(after_micros).String(after_id).Build();
    range.start.push_back('\0');  // Just after the page's last record.
  }
  v1::ListOutboundRecordsResponse response;
  absl::Status failed;
  MB_RETURN_IF_ERROR(store_->Scan(
      by_partner ? kByPartnerTable : kByTimeTable, range,
      [&](absl::string_view key, absl::string_view) {
        store::KeyReader reader(key);
        std::string partner, id;
        int64_t micros = 0;
        if ((by_partner && !reader.String(&partner)) ||
            !reader.Int64(&micros) || !reader.String(&id)) {
          failed = absl::DataLossError("outbound record index: unreadable key");
          return false;
        }
        StoredRecord stored;
        absl::StatusOr<bool> found = store_->GetProto(
            kRecordsTable, store::KeyBuilder().String(id).Build(), &stored);
        if (!found.ok() || !*found) {
          failed = found.ok()
                       ? absl::DataLossError(absl::StrCat(
                             "outbound record ", id, " is indexed but missing"))
                       : found.status();
          return false;
        }
        if (!statuses.empty() &&
            std::find(statuses.begin(), statuses.end(),
                      stored.record().status()) == statuses.end()) {
          return true;
        }
        if (response.records_size() == page_size) {
          response.mutable_page()->set_next_page_token(
              PageToken(response.records(page_size - 1)));
          return false;
        }
        *response.add_records() = stored.record();
        return true;
      }));
  MB_RETURN_IF_ERROR(failed);
  return response;
}

absl::StatusOr<v1::ResendOutboundRecordResponse> Outbound::ResendOutboundRecord(
    const v1::ResendOutboundRecordRequest& request) {
  static const char* const kCorrectable[] = {
      "partner_member_number", "family_name", "given_name",  "flight_number",
      "flight_date",           "origin",      "destination", "booking_class"};
  FieldErrors errors;
  if (request.record_id().empty() || request.record_id().size() > 64) {
    errors.Add("record_id", "required, at most 64 characters");
  }
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "partner_code" || path == "ticket_number" ||
        path == "coupon_number" || path == "carrier") {
      errors.Add(
          "update_mask",
          absl::StrCat(path, " cannot change: it identifies the flight"));
    } else if (std::find(std::begin(kCorrectable), std::end(kCorrectable),
                         path) == std::end(kCorrectable)) {
      errors.Add(
          "update_mask",
          absl::StrCat(path, ": not a correctable field of OutboundFlight (",
                       absl::StrJoin(kCorrectable, ", "), ")"));
    }
  }
  if (request.expected_version() < 0) {
    errors.Add("expected_version", "must not be negative");
  }
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: records are resent by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  // The partner (which the lock is by) never changes, so it can be read
  // before locking.
  MB_ASSIGN_OR_RETURN(StoredRecord unlocked, LatestRecord(request.record_id()));
  uint64_t ticket = 0;
  v1::ResendOutboundRecordResponse response;
  // Set when this request resent the record (not a repeat).
  absl::optional<std::string> rejected_for;
  {
    store::KeyLocks::Guard guard =
        locks_.Lock(PartnerLock(unlocked.record().flight().partner_code()));
    MB_ASSIGN_OR_RETURN(StoredRecord before,
                        LatestRecord(request.record_id(), &ticket));
    const v1::OutboundRecord& record = before.record();
    v1::OutboundFlight corrected = record.flight();
    FieldMaskUtil::MergeOptions options;
    options.set_replace_message_fields(true);
    FieldMaskUtil::MergeMessageTo(request.corrections(), request.update_mask(),
                                  options, &corrected);
    if (record.status() == v1::OUTBOUND_PENDING &&
        MessageDifferencer::Equals(corrected, record.flight())) {
      *response.mutable_record() = record;  // Resent already, as asked.
    } else if (record.status() != v1::OUTBOUND_REJECTED) {
      return FailedPreconditionField(
          "record_id",
          absl::StrCat("is ", v1::OutboundRecordStatus_Name(record.status()),
                       "; only an OUTBOUND_REJECTED record is resent"));
    } else {
      if (request.expected_version() != 0 &&
          request.expected_version() != record.version()) {
        return FailedPreconditionField(
            "expected_version",
            absl::StrCat("is ", request.expected_version(),
                         " but the record is at ", record.version(),
                         "; read it again"));
      }
      FieldErrors corrections;
      CheckFlight(corrected, "corrections", corrections);
      MB_RETURN_IF_ERROR(corrections.ToStatus());
      StoredRecord after = before;
      v1::OutboundRecord* changed = after.mutable_record();
      *changed->mutable_flight() = corrected;
      changed->set_status(v1::OUTBOUND_PENDING);
      // The last acknowledgement's verdict no longer describes the record.
      changed->clear_reason();
      changed->clear_reason_code();
      changed->clear_invalid_field();
      changed->clear_miles_credited();
      changed->clear_acknowledged_at();
      changed->set_version(record.version() + 1);
      store::WriteBatch batch = store_->NewBatch();
      PutRecord(batch, after, &before);
      ticket = store_->Enqueue(batch);
      rejected_for = record.reason();
      *response.mutable_record() = std::move(*changed);
    }
  }
  if (ticket != 0) store_->Wait(ticket);
  if (rejected_for.has_value()) {
    log::Info("outbound_record_resent",
              {{"record_id", response.record().record_id()},
               {"partner", response.record().flight().partner_code()},
               {"rejected_for", *rejected_for},
               {"corrected", FieldMaskUtil::ToString(request.update_mask())},
               {"operator", request.actor().operator_id()}});
  }
  return response;
}

}  // namespace mileagebank::settlement
