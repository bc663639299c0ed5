#include "services/settlement/accrual_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "libs/crypto/password.h"
#include "libs/csv/csv.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "services/settlement/ack_file.h"

namespace mileagebank::settlement {

namespace av1 = accrual::v1;

namespace {

namespace fs = std::filesystem;
using fileio::ErrnoError;
using fileio::SyncFolder;
using fileio::WriteAll;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;
constexpr size_t kMaxChunkBytes = size_t{1} << 20;
constexpr size_t kReadBufferBytes = size_t{1} << 20;
// Log a file's progress every this many records (and at its end).
constexpr int64_t kProgressLogEvery = 100'000;
// A batch that cannot go on is tried again in the same run this many times
// (keeping the place in the file) before the partner goes back in line.
constexpr int kRetriesInRun = 5;
constexpr absl::Duration kFirstBackoff = absl::Seconds(1);
constexpr absl::Duration kMaxBackoff = absl::Seconds(60);

std::string FileKey(absl::string_view file_id) {
  return store::KeyBuilder().String(file_id).Build();
}
std::string ReceiptKey(uint64_t receipt) {
  return store::KeyBuilder().Uint64(receipt).Build();
}
std::string PartnerReceiptKey(absl::string_view partner, uint64_t receipt) {
  return store::KeyBuilder().String(partner).Uint64(receipt).Build();
}
std::string PartnerPrefix(absl::string_view partner) {
  return store::KeyBuilder().String(partner).Build();
}
std::string SeqKey(absl::string_view partner, int64_t seq) {
  return store::KeyBuilder().String(partner).Int64(seq).Build();
}
std::string InboxKey(absl::string_view partner, absl::string_view file_name) {
  return store::KeyBuilder().String(partner).String(file_name).Build();
}

// The contract's partner_code: 2-8 characters of A-Z and 0-9.
bool IsPartnerCodeText(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 8 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

bool IsFinal(v1::FileStatus status) {
  return status == v1::ACCEPTED || status == v1::REFUSED;
}

// An open file descriptor, closed with the object.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// What the first `limit` bytes of a file hash to.
struct Fingerprint {
  std::string sha256;
  uint64_t size = 0;
  // The file holds more than `limit` bytes.
  bool more = false;
};

// nullopt when the file does not exist.
absl::StatusOr<absl::optional<Fingerprint>> FingerprintOf(
    const std::string& path, uint64_t limit) {
  Fd in(::open(path.c_str(), O_RDONLY));
  if (in.get() < 0) {
    if (errno == ENOENT) return absl::optional<Fingerprint>();
    return ErrnoError("open", path);
  }
  crypto::Sha256 sha;
  Fingerprint print;
  std::string buffer(kReadBufferBytes, '\0');
  while (true) {
    ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoError("read", path);
    if (got == 0) break;
    uint64_t take = std::min<uint64_t>(static_cast<uint64_t>(got),
                                       limit - print.size);
    sha.Update(absl::string_view(buffer.data(), take));
    print.size += take;
    if (take < static_cast<uint64_t>(got)) {
      print.more = true;
      break;
    }
  }
  print.sha256 = sha.HexDigest();
  return absl::optional<Fingerprint>(std::move(print));
}

// The received bytes on their way into the work folder: hashed and counted
// as they come, kept up to a limit, removed again unless kept.
class WorkCopy {
 public:
  static absl::StatusOr<std::unique_ptr<WorkCopy>> Create(std::string path,
                                                          uint64_t limit) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return ErrnoError("create", path);
    return std::unique_ptr<WorkCopy>(new WorkCopy(std::move(path), fd, limit));
  }
  ~WorkCopy() {
    fd_.Reset();
    if (!kept_) ::unlink(path_.c_str());
  }

  // Appends what still fits under the limit.
  absl::Status Add(absl::string_view bytes) {
    if (bytes.size() > limit_ - size_) {
      bytes = bytes.substr(0, limit_ - size_);
      oversize_ = true;
    }
    sha_.Update(bytes);
    size_ += bytes.size();
    return WriteAll(fd_.get(), bytes, path_);
  }
  // More bytes came than the limit: the rest need not be read.
  bool oversize() const { return oversize_; }

  // Makes the copy durable and keeps it; fills in what the file record says
  // about the bytes.
  absl::Status Keep(const std::string& folder, v1::AccrualFile* file) {
    if (::fsync(fd_.get()) != 0) return ErrnoError("fsync", path_);
    fd_.Reset();
    MB_RETURN_IF_ERROR(SyncFolder(folder));
    kept_ = true;
    file->set_size_bytes(static_cast<int64_t>(size_));
    file->set_sha256(sha_.HexDigest());
    return absl::OkStatus();
  }

 private:
  WorkCopy(std::string path, int fd, uint64_t limit)
      : path_(std::move(path)), fd_(fd), limit_(limit) {}

  const std::string path_;
  Fd fd_;
  const uint64_t limit_;
  crypto::Sha256 sha_;
  uint64_t size_ = 0;
  bool oversize_ = false;
  bool kept_ = false;
};

// An input file stream with a large buffer, for reading files of up to a
// GiB line by line.
class BufferedInput {
 public:
  explicit BufferedInput(const std::string& path)
      : buffer_(new char[kReadBufferBytes]) {
    stream_.rdbuf()->pubsetbuf(buffer_.get(), kReadBufferBytes);
    stream_.open(path, std::ios::binary);
  }
  bool is_open() const { return stream_.is_open(); }
  std::istream& stream() { return stream_; }

 private:
  std::unique_ptr<char[]> buffer_;
  std::ifstream stream_;
};

common::v1::Actor FileActor() {
  common::v1::Actor actor;
  actor.set_channel(common::v1::PARTNER);
  return actor;
}

av1::PartnerActivityType ActivityTypeOf(ActivityType type) {
  switch (type) {
    case ActivityType::kHotel:
      return av1::HOTEL;
    case ActivityType::kCar:
      return av1::CAR;
    case ActivityType::kCard:
      return av1::CARD;
    default:
      return av1::OTHER;
  }
}

// The field an item error of PostActivities names, relative to the single
// request ("member_number", "flight.origin"); "" when it names none.
std::string ErrorField(const common::v1::Status& error) {
  std::string field;
  for (const google::protobuf::Any& any : error.details()) {
    common::v1::ErrorDetails details;
    if (any.UnpackTo(&details) && details.field_violations_size() > 0) {
      field = details.field_violations(0).field();
      break;
    }
  }
  if (field.empty()) {
    // Errors without details still begin "<field>: ".
    size_t colon = error.message().find(": ");
    if (colon != std::string::npos) field = error.message().substr(0, colon);
  }
  absl::string_view rest = field;
  if (absl::StartsWith(rest, "activities[")) {
    size_t dot = rest.find("].");
    rest = dot == absl::string_view::npos ? "" : rest.substr(dot + 2);
  }
  for (absl::string_view kind : {"partner_flight.", "partner_activity."}) {
    if (absl::StartsWith(rest, kind)) rest.remove_prefix(kind.size());
  }
  return std::string(rest);
}

// The file's name (partner-files.md section 1) of the field accrual named.
std::string FileFieldOf(absl::string_view accrual_field) {
  static constexpr std::pair<const char*, const char*> kFields[] = {
      {"member_number", "member"},
      {"flight_identity", "ref"},
      {"partner_reference", "ref"},
      {"flight.carrier", "carrier"},
      {"flight.flight_number", "flight"},
      {"flight.flight_date", "date"},
      {"flight.origin", "from"},
      {"flight.destination", "to"},
      {"flight.booking_class", "class"},
      {"activity_type", "type"},
      {"activity_date", "date"},
      {"miles", "miles"},
  };
  for (const auto& [accrual, file] : kFields) {
    if (accrual_field == accrual ||
        absl::StartsWith(accrual_field, absl::StrCat(accrual, "."))) {
      return file;
    }
  }
  // A field of the whole request: the record as a whole is at fault.
  return "record";
}

// The answer for one record.
struct Outcome {
  v1::RecordReasonCode reason = v1::RECORD_REASON_CODE_UNSPECIFIED;
  std::string invalid_field;
  int64_t miles = 0;
  bool accepted() const { return reason == v1::RECORD_REASON_CODE_UNSPECIFIED; }
};

// Accrual's answer for one record; an error status when accrual could not
// judge it, so that the batch is sent again later.
absl::StatusOr<Outcome> OutcomeOf(const av1::ActivityResult& result,
                                  int64_t record_number) {
  Outcome outcome;
  if (result.has_transaction()) {
    outcome.miles = result.transaction().miles();
    return outcome;
  }
  const common::v1::Status& error = result.error();
  const std::string field = ErrorField(error);
  const bool about_member = field == "member_number";
  switch (static_cast<absl::StatusCode>(error.code())) {
    case absl::StatusCode::kAlreadyExists:
      outcome.reason = v1::DUPLICATE_ACTIVITY;
      return outcome;
    case absl::StatusCode::kNotFound:
      if (!about_member) break;  // The partner, not yet known to accrual.
      outcome.reason = v1::MEMBER_NOT_FOUND;
      return outcome;
    case absl::StatusCode::kFailedPrecondition:
      if (!about_member) break;  // The partner, not ACTIVE in accrual yet.
      outcome.reason = v1::MEMBER_INACTIVE;
      return outcome;
    case absl::StatusCode::kInvalidArgument:
      outcome.reason = v1::INVALID_FIELD;
      outcome.invalid_field = FileFieldOf(field);
      return outcome;
    default:
      break;
  }
  const absl::StatusCode code =
      error.code() == 0 ? absl::StatusCode::kInternal
                        : static_cast<absl::StatusCode>(error.code());
  return absl::Status(code, absl::StrCat("accrual could not judge record ",
                                         record_number, ": ", error.message()));
}

absl::Status Truncate(const std::string& path, uint64_t length, Fd* append) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND));
  if (fd.get() < 0) return ErrnoError("open", path);
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("stat", path);
  if (static_cast<uint64_t>(info.st_size) < length) {
    return absl::DataLossError(absl::StrCat(
        path, " holds ", info.st_size, " bytes, less than the ", length,
        " committed"));
  }
  if (static_cast<uint64_t>(info.st_size) > length) {
    if (::ftruncate(fd.get(), static_cast<off_t>(length)) != 0) {
      return ErrnoError("truncate", path);
    }
    if (::fsync(fd.get()) != 0) return ErrnoError("fsync", path);
  }
  *append = std::move(fd);
  return absl::OkStatus();
}

// The AckWriter's lines of `records` without its H line, which a partial
// acknowledgement holds once, at its start.
std::string RecordLines(const std::vector<AccrualRecord>& records,
                        const std::vector<Outcome>& outcomes,
                        const AccrualHeader& header) {
  std::ostringstream out;
  AckWriter writer(&out, header.partner, header.seq, header.created);
  for (size_t i = 0; i < records.size(); ++i) {
    if (outcomes[i].accepted()) {
      writer.AddAccepted(records[i].record_number, outcomes[i].miles);
    } else {
      writer.AddRejected(
          records[i].record_number,
          RecordReasonText(outcomes[i].reason, outcomes[i].invalid_field));
    }
  }
  std::string lines = out.str();
  return lines.substr(lines.find('\n') + 1);
}

std::string TrailerLine(const v1::AccrualFile& file) {
  return csv::FormatRecord({"T", absl::StrCat(file.records_total()),
                            absl::StrCat(file.records_accepted()),
                            absl::StrCat(file.records_rejected()),
                            absl::StrCat(file.miles_credited())});
}

// A page size as common.v1.PageRequest says.
absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPage) {
    return InvalidField("page.page_size", "must be 0 to 1,000");
  }
  return page.page_size() == 0 ? kDefaultPage : page.page_size();
}

// One R line of an acknowledgement; false when `fields` is not one.
bool ParseRecordLine(const std::vector<std::string>& fields,
                     v1::AcknowledgedRecord* record) {
  if (fields.size() != 5 || fields[0] != "R") return false;
  int64_t number = 0, miles = 0;
  if (!absl::SimpleAtoi(fields[1], &number) ||
      !absl::SimpleAtoi(fields[4], &miles)) {
    return false;
  }
  record->set_record_number(number);
  record->set_miles(miles);
  record->set_reason(fields[3]);
  if (fields[2] == "ACCEPTED") {
    record->set_status(v1::RECORD_ACCEPTED);
    return true;
  }
  if (fields[2] != "REJECTED") return false;
  record->set_status(v1::RECORD_REJECTED);
  absl::string_view reason = fields[3];
  constexpr absl::string_view kInvalid = "INVALID_FIELD:";
  v1::RecordReasonCode code = v1::RECORD_REASON_CODE_UNSPECIFIED;
  if (absl::StartsWith(reason, kInvalid)) {
    code = v1::INVALID_FIELD;
    record->set_invalid_field(std::string(reason.substr(kInvalid.size())));
  } else {
    v1::RecordReasonCode_Parse(std::string(reason), &code);
  }
  record->set_reason_code(code);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Metrics

struct AccrualFiles::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : received(prometheus::BuildCounter()
                     .Name("mileagebank_settlement_accrual_files_received_total")
                     .Help("Accrual files received, by partner")
                     .Register(registry)),
        accepted(prometheus::BuildCounter()
                     .Name("mileagebank_settlement_accrual_files_accepted_total")
                     .Help("Accrual files processed and acknowledged, by "
                           "partner")
                     .Register(registry)),
        refused(prometheus::BuildCounter()
                    .Name("mileagebank_settlement_accrual_files_refused_total")
                    .Help("Accrual files refused by a whole-file check, by "
                          "partner and code")
                    .Register(registry)),
        resent(prometheus::BuildCounter()
                   .Name("mileagebank_settlement_accrual_files_resent_total")
                   .Help("Accrual files identical to an accepted one, "
                         "answered with its acknowledgement, by partner")
                   .Register(registry)),
        judged(prometheus::BuildCounter()
                   .Name("mileagebank_settlement_accrual_records_judged_total")
                   .Help("Accrual file records judged, by partner and "
                         "outcome (ACCEPTED or the reason code)")
                   .Register(registry)),
        in_progress(prometheus::BuildGauge()
                        .Name("mileagebank_settlement_accrual_records_in_"
                              "progress")
                        .Help("Records not yet judged of the accrual files "
                              "being processed, by partner")
                        .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& received;
  prometheus::Family<prometheus::Counter>& accepted;
  prometheus::Family<prometheus::Counter>& refused;
  prometheus::Family<prometheus::Counter>& resent;
  prometheus::Family<prometheus::Counter>& judged;
  prometheus::Family<prometheus::Gauge>& in_progress;
};

// ---------------------------------------------------------------------------
// Pass 2 of one PROCESSING file, from where its committed progress stands.

class AccrualFiles::FileRun {
 public:
  FileRun(AccrualFiles* owner, files::StoredAccrualFile* stored,
          bool background)
      : owner_(owner),
        stored_(*stored),
        file_(*stored->mutable_file()),
        background_(background) {}

  ~FileRun() {
    if (unjudged_ > 0) Gauge().Decrement(static_cast<double>(unjudged_));
  }

  // Judges and credits the rest of the file and accepts it; an error leaves
  // it PROCESSING, to go on from its last committed batch.
  absl::Status Run() {
    started_ = owner_->clock_();
    MB_RETURN_IF_ERROR(Open());
    if (published_) return Finish();
    unjudged_ = file_.records_total() - file_.records_judged();
    Gauge().Increment(static_cast<double>(unjudged_));

    // Batches whose verdicts were stored are read as they were planned,
    // even if the batch size changed meanwhile: those records may be
    // credited.
    Batch current, next;
    MB_RETURN_IF_ERROR(ReadPlanned(stored_.plan(), &current));
    if (current.durable) {
      MB_RETURN_IF_ERROR(ReadPlanned(stored_.next_plan(), &next));
    } else {
      MB_RETURN_IF_ERROR(ReadBatch(owner_->options_.credit_batch_size,
                                   &next.records));
    }
    absl::optional<std::vector<Outcome>> outcomes;
    std::unique_ptr<Sender> next_sender;
    while (!current.records.empty()) {
      if (background_ && owner_->stopping()) {
        return absl::CancelledError("stopping: the file goes on at the next start");
      }
      MB_RETURN_IF_ERROR(StorePlans(current, next));
      if (!outcomes.has_value()) {
        MB_ASSIGN_OR_RETURN(outcomes, Retrying([&] {
                              return Credit(current.records, current.plan, 0);
                            }));
      }
      // The next batch goes to accrual (its verdicts are stored, so a crash
      // resends it as it is) while this one's lines and progress are made
      // durable, unless it went already (below); accrual has decided this
      // one already, so the order of credits is the file's.
      std::unique_ptr<Sender> sender = std::move(next_sender);
      const bool sent_early = sender != nullptr;
      if (sender == nullptr && !next.records.empty() && next.durable) {
        sender = std::make_unique<Sender>();
        sender->Start([&] {
          return Retrying([&] { return Credit(next.records, next.plan, 0); });
        });
      }
      const std::string lines = RecordLines(current.records, *outcomes, header_);
      MB_RETURN_IF_ERROR(WriteAll(ack_.get(), lines, partial_path_));
      if (::fsync(ack_.get()) != 0) return ErrnoError("fsync", partial_path_);

      // The verdicts of the batch after next go in the same commit as this
      // batch's results, so that a batch costs one durable write. When they
      // cannot be had now, the results are committed without them and that
      // batch is judged again before it is sent.
      Batch after;
      MB_RETURN_IF_ERROR(
          ReadBatch(owner_->options_.credit_batch_size, &after.records));
      absl::StatusOr<files::BatchPlan> after_plan =
          absl::FailedPreconditionError("no records left");
      if (!after.records.empty() && next.durable) {
        after_plan = Judge(after.records);
      }

      v1::AccrualRecordsJudged event = Record(current.records, *outcomes);
      stored_.set_ack_bytes(stored_.ack_bytes() + lines.size());
      stored_.clear_plan();
      stored_.clear_next_plan();
      if (next.durable) {
        *stored_.mutable_plan() = next.plan;
        if (after_plan.ok()) *stored_.mutable_next_plan() = *after_plan;
      }
      MB_RETURN_IF_ERROR(Commit(&event));
      Committed(current.records, *outcomes);
      // The batch after next is stored now: it goes to accrual at once, so
      // that accrual decides it while it makes next's credits durable and
      // answers (two batches in flight, never more beyond the committed
      // progress; a restart resends both). Accrual decides it after next
      // (PostActivitiesRequest.decide_after), or refuses it when it does
      // not know next to be decided: it is tried once only, and sent again
      // in order if that fails. The sender has its own copy of the records:
      // it may outlive this iteration's `after` when an error ends the run.
      if (after_plan.ok() && !after.records.empty() && next.durable) {
        next_sender = std::make_unique<Sender>();
        next_sender->Start([this, records = after.records, plan = *after_plan,
                            previous = next.plan.first_record_number()] {
          return Credit(records, plan, previous);
        });
      }

      outcomes.reset();
      if (sender != nullptr) {
        absl::StatusOr<std::vector<Outcome>> result = sender->Result();
        if (result.ok()) {
          outcomes = *std::move(result);
        } else if (sent_early) {
          // Sent again above, after the batch before it was answered.
          log::Warning(
              "file_batch_resent_in_order",
              {{"file_id", file_.file_id()},
               {"partner", partner_},
               {"first_record_number", next.plan.first_record_number()},
               {"status", result.status().ToString()}});
        } else {
          return result.status();
        }
      }
      current = std::move(next);
      next = std::move(after);
      if (after_plan.ok()) {
        next.plan = *std::move(after_plan);
        next.durable = true;
      }
    }
    return Finish();
  }

 private:
  // Records of the file in hand, with their verdicts once judged.
  struct Batch {
    std::vector<AccrualRecord> records;
    files::BatchPlan plan;
    // `plan` is stored: the batch may be sent (and may have been).
    bool durable = false;
  };

  // One batch's PostActivities on a thread of its own; joined at the
  // latest when it goes out of scope.
  class Sender {
   public:
    using Send = std::function<absl::StatusOr<std::vector<Outcome>>()>;
    Sender() = default;
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;
    ~Sender() {
      if (thread_.joinable()) thread_.join();
    }
    void Start(Send send) {
      thread_ = std::thread([this, send = std::move(send)] { result_ = send(); });
    }
    bool started() const { return thread_.joinable(); }
    absl::StatusOr<std::vector<Outcome>> Result() {
      thread_.join();
      return std::move(result_);
    }

   private:
    std::thread thread_;
    absl::StatusOr<std::vector<Outcome>> result_ =
        absl::UnknownError("not sent");
  };

  prometheus::Gauge& Gauge() {
    return owner_->metrics_->in_progress.Add(
        {{"partner", file_.partner_code()}});
  }

  // Reads the batch `plan` was stored for when it starts at the next
  // record (durable then), else a batch of the configured size.
  absl::Status ReadPlanned(const files::BatchPlan& plan, Batch* batch) {
    batch->durable = plan.first_record_number() == read_ + 1 &&
                     plan.verdicts_size() > 0 &&
                     plan.verdicts_size() <= file_.records_total() - read_;
    if (batch->durable) batch->plan = plan;
    return ReadBatch(batch->durable ? plan.verdicts_size()
                                    : owner_->options_.credit_batch_size,
                     &batch->records);
  }

  // Makes sure `current`'s verdicts are stored (judged with retries when
  // not) and, when it can be had at once, `next`'s with them.
  absl::Status StorePlans(Batch& current, Batch& next) {
    const bool judge_next = !next.records.empty() && !next.durable;
    if (current.durable && !judge_next) return absl::OkStatus();
    if (!current.durable) {
      MB_ASSIGN_OR_RETURN(current.plan,
                          Retrying([&] { return Judge(current.records); }));
    }
    absl::StatusOr<files::BatchPlan> next_plan =
        judge_next ? Judge(next.records) : next.plan;
    *stored_.mutable_plan() = current.plan;
    stored_.clear_next_plan();
    if (!next.records.empty() && next_plan.ok()) {
      *stored_.mutable_next_plan() = *next_plan;
    }
    MB_RETURN_IF_ERROR(Commit(nullptr));
    current.durable = true;
    if (judge_next && next_plan.ok()) {
      next.plan = *std::move(next_plan);
      next.durable = true;
    }
    return absl::OkStatus();
  }

  absl::Status Open() {
    partner_ = file_.partner_code();
    header_.partner = partner_;
    header_.seq = file_.header_seq();
    header_.created = validation::FromProtoTimestamp(file_.header_created());
    partial_path_ = owner_->PartialAckPath(file_.file_id());
    ack_name_ = AckFileName(partner_, header_.seq, /*refused=*/false,
                            /*name_taken_by_accepted=*/false);

    struct stat info;
    if (::stat(partial_path_.c_str(), &info) != 0 && errno == ENOENT &&
        file_.records_judged() == file_.records_total()) {
      // Published into the outbox just before a crash: finish with it, if
      // it is what this file's acknowledgement must be.
      const std::string outbox = owner_->folders_->OutboxFilePath(partner_, ack_name_);
      const std::string trailer = TrailerLine(file_);
      std::ifstream in(outbox, std::ios::binary | std::ios::ate);
      if (in && static_cast<uint64_t>(in.tellg()) ==
                    stored_.ack_bytes() + trailer.size()) {
        std::string tail(trailer.size(), '\0');
        in.seekg(static_cast<std::streamoff>(stored_.ack_bytes()));
        in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
        if (in && tail == trailer) {
          published_ = true;
          return absl::OkStatus();
        }
      }
    }
    MB_RETURN_IF_ERROR(Truncate(partial_path_, stored_.ack_bytes(), &ack_));

    MB_ASSIGN_OR_RETURN(v1::Partner partner, owner_->partners_->Find(partner_));
    rules_.partner_code = partner_;
    rules_.is_airline = partner.type() == v1::AIRLINE;
    rules_.airports = owner_->airports_;
    if (rules_.is_airline) {
      v1::GetEarningTableRequest request;
      request.set_partner_code(partner_);
      MB_ASSIGN_OR_RETURN(v1::GetEarningTableResponse table,
                          owner_->partners_->GetEarningTable(request));
      for (const v1::ClassEarningRate& rate : table.entries()) {
        if (rate.booking_class().size() == 1) {
          rules_.booking_classes.insert(rate.booking_class()[0]);
        }
      }
    }
    input_ = std::make_unique<BufferedInput>(
        owner_->WorkCopyPath(file_.file_id()));
    if (!input_->is_open()) {
      return absl::DataLossError(absl::StrCat(
          "the received copy of accrual file ", file_.file_id(), " is gone"));
    }
    reader_ = std::make_unique<AccrualFileReader>(input_->stream(), rules_);
    AccrualRecord skipped;
    while (read_ < file_.records_judged()) {
      if (!reader_->Next(&skipped)) return Lost();
      ++read_;
    }
    return absl::OkStatus();
  }

  absl::Status Lost() {
    return reader_->status().ok()
               ? absl::DataLossError(absl::StrCat(
                     "accrual file ", file_.file_id(),
                     " ends before its trailer's count of records"))
               : reader_->status();
  }

  // The next records, up to `size`.
  absl::Status ReadBatch(int64_t size, std::vector<AccrualRecord>* records) {
    records->clear();
    const int64_t count = std::min<int64_t>(size, file_.records_total() - read_);
    records->resize(static_cast<size_t>(std::max<int64_t>(count, 0)));
    for (AccrualRecord& record : *records) {
      if (!reader_->Next(&record)) return Lost();
      ++read_;
    }
    return absl::OkStatus();
  }

  // In the background, a batch that cannot go on is tried again a few times
  // before giving the worker back.
  template <typename Step>
  auto Retrying(Step step) -> decltype(step()) {
    absl::Duration wait = kFirstBackoff;
    for (int attempt = 1;; ++attempt) {
      auto result = step();
      if (result.ok() || !background_ || attempt > kRetriesInRun) return result;
      log::Warning("file_batch_retry",
                   {{"file_id", file_.file_id()},
                    {"partner", partner_},
                    {"attempt", attempt},
                    {"status", result.status().ToString()}});
      if (!owner_->WaitUnlessStopping(wait)) return result;
      wait = std::min(wait * 2, kMaxBackoff);
    }
  }

  // Record checks 1-6 of `records`, with their members looked up (those not
  // cached yet, in one call).
  absl::StatusOr<files::BatchPlan> Judge(
      const std::vector<AccrualRecord>& records) {
    auto unknown_members = [&] {
      std::vector<std::string> unknown;
      absl::flat_hash_set<std::string> seen;
      for (const AccrualRecord& record : records) {
        if (record.valid() && !members_.contains(record.member_number) &&
            seen.insert(record.member_number).second) {
          unknown.push_back(record.member_number);
        }
      }
      return unknown;
    };
    std::vector<std::string> unknown = unknown_members();
    if (members_.size() + unknown.size() > kMaxCachedMembers) {
      members_.clear();
      unknown = unknown_members();
    }
    if (!unknown.empty()) {
      absl::StatusOr<std::vector<absl::optional<MemberFacts>>> found =
          owner_->membership_->FindMembers(unknown);
      if (!found.ok()) {
        return absl::Status(
            found.status().code(),
            absl::StrCat("membership could not say who the members of records ",
                         records.front().record_number, "-",
                         records.back().record_number,
                         " are: ", found.status().message()));
      }
      for (size_t i = 0; i < unknown.size(); ++i) {
        members_[unknown[i]] = std::move((*found)[i]);
      }
    }

    files::BatchPlan plan;
    plan.set_first_record_number(records.front().record_number);
    for (const AccrualRecord& record : records) {
      const MemberFacts* member = nullptr;
      if (record.valid()) {
        const absl::optional<MemberFacts>& facts = members_[record.member_number];
        if (facts.has_value()) member = &*facts;
      }
      RecordVerdict verdict = JudgeRecord(record, member, header_);
      files::PlannedVerdict* planned = plan.add_verdicts();
      planned->set_reason(verdict.reason);
      planned->set_invalid_field(verdict.invalid_field);
    }
    return plan;
  }

  av1::Activity ActivityOf(const AccrualRecord& record) const {
    av1::Activity activity;
    av1::PartnerSource source;
    source.set_file_id(file_.file_id());
    source.set_record_number(record.record_number);
    if (record.type == ActivityType::kAir) {
      av1::PostPartnerFlightRequest* flight = activity.mutable_partner_flight();
      flight->set_member_number(record.member_number);
      flight->set_partner_code(partner_);
      flight->mutable_flight_identity()->set_ticket_number(record.ticket_number);
      flight->mutable_flight_identity()->set_coupon_number(record.coupon_number);
      av1::Flight* flown = flight->mutable_flight();
      flown->set_carrier(record.carrier);
      flown->set_flight_number(record.flight_number);
      *flown->mutable_flight_date() = validation::ToProtoDate(record.date);
      flown->set_origin(record.origin);
      flown->set_destination(record.destination);
      flown->set_booking_class(std::string(1, record.booking_class));
      *flight->mutable_source() = std::move(source);
      *flight->mutable_actor() = FileActor();
    } else {
      av1::PostPartnerActivityRequest* stay = activity.mutable_partner_activity();
      stay->set_member_number(record.member_number);
      stay->set_partner_code(partner_);
      stay->set_partner_reference(record.ref);
      stay->set_activity_type(ActivityTypeOf(record.type));
      *stay->mutable_activity_date() = validation::ToProtoDate(record.date);
      stay->set_miles(record.miles);
      *stay->mutable_source() = std::move(source);
      *stay->mutable_actor() = FileActor();
    }
    return activity;
  }

  // Sends the records that passed checks 1-6 to accrual, in record order,
  // and gives every record of the batch its outcome. `decide_after` is the
  // first record number of a batch still in flight that accrual must decide
  // first (0: none). A batch with nothing to credit is sent all the same,
  // for accrual to know it decided, as the batch after it may name it.
  absl::StatusOr<std::vector<Outcome>> Credit(
      absl::Span<const AccrualRecord> records, const files::BatchPlan& plan,
      uint64_t decide_after) {
    std::vector<Outcome> outcomes(records.size());
    av1::PostActivitiesRequest request;
    // Only each credit's miles are needed (OutcomeOf).
    request.set_brief_results(true);
    request.set_order_key(file_.file_id());
    request.set_order_number(plan.first_record_number());
    request.set_decide_after(decide_after);
    std::vector<size_t> sent;
    for (size_t i = 0; i < records.size(); ++i) {
      const files::PlannedVerdict& verdict = plan.verdicts(static_cast<int>(i));
      if (verdict.reason() != v1::RECORD_REASON_CODE_UNSPECIFIED) {
        outcomes[i].reason = verdict.reason();
        outcomes[i].invalid_field = verdict.invalid_field();
        continue;
      }
      *request.add_activities() = ActivityOf(records[i]);
      sent.push_back(i);
    }
    MB_ASSIGN_OR_RETURN(av1::PostActivitiesResponse response,
                        owner_->accrual_->PostActivities(request));
    if (response.results_size() != static_cast<int>(sent.size())) {
      return absl::InternalError(absl::StrCat(
          "accrual answered ", response.results_size(), " results for ",
          sent.size(), " activities"));
    }
    for (size_t k = 0; k < sent.size(); ++k) {
      const size_t i = sent[k];
      MB_ASSIGN_OR_RETURN(outcomes[i],
                          OutcomeOf(response.results(static_cast<int>(k)),
                                    records[i].record_number));
    }
    return outcomes;
  }

  // Adds a batch's outcomes to the file's counts; its event.
  v1::AccrualRecordsJudged Record(const std::vector<AccrualRecord>& records,
                                  const std::vector<Outcome>& outcomes) {
    v1::AccrualRecordsJudged event;
    event.set_file_id(file_.file_id());
    event.set_partner_code(partner_);
    event.set_first_record_number(records.front().record_number);
    event.set_last_record_number(records.back().record_number);
    std::map<v1::RecordReasonCode, int64_t> by_reason;
    for (const Outcome& outcome : outcomes) {
      if (outcome.accepted()) {
        event.set_accepted(event.accepted() + 1);
        event.set_miles_credited(event.miles_credited() + outcome.miles);
      } else {
        event.set_rejected(event.rejected() + 1);
        ++by_reason[outcome.reason];
      }
    }
    for (const auto& [reason, count] : by_reason) {
      v1::ReasonCount* counted = event.add_rejected_by_reason();
      counted->set_reason_code(reason);
      counted->set_count(count);
    }
    file_.set_records_judged(file_.records_judged() +
                             static_cast<int64_t>(records.size()));
    file_.set_records_accepted(file_.records_accepted() + event.accepted());
    file_.set_records_rejected(file_.records_rejected() + event.rejected());
    file_.set_miles_credited(file_.miles_credited() + event.miles_credited());
    return event;
  }

  absl::Status Commit(const v1::AccrualRecordsJudged* event) {
    store::WriteBatch batch = owner_->store_->NewBatch();
    batch.PutProto(kAccrualFilesTable, FileKey(file_.file_id()), stored_);
    if (event != nullptr) batch.AppendEvent(partner_, *event);
    return owner_->store_->Commit(batch);
  }

  // After a batch is durable: metrics, the progress line, the test crash.
  void Committed(const std::vector<AccrualRecord>& records,
                 const std::vector<Outcome>& outcomes) {
    for (const Outcome& outcome : outcomes) {
      owner_->metrics_->judged
          .Add({{"partner", partner_},
                {"outcome", outcome.accepted()
                                ? "ACCEPTED"
                                : v1::RecordReasonCode_Name(outcome.reason)}})
          .Increment();
    }
    unjudged_ -= static_cast<int64_t>(records.size());
    Gauge().Decrement(static_cast<double>(records.size()));
    const int64_t judged = file_.records_judged();
    if (judged == file_.records_total() ||
        judged / kProgressLogEvery !=
            (judged - static_cast<int64_t>(records.size())) / kProgressLogEvery) {
      log::Info("file_progress", {{"file_id", file_.file_id()},
                                  {"partner", partner_},
                                  {"records_judged", judged},
                                  {"records_total", file_.records_total()},
                                  {"records_accepted", file_.records_accepted()},
                                  {"records_rejected", file_.records_rejected()},
                                  {"miles_credited", file_.miles_credited()}});
    }
    owner_->CountCommittedBatch();
  }

  // The T line, the acknowledgement into the outbox, and in one batch: the
  // file ACCEPTED, the partner's sequence, the seq's accepted file and the
  // event.
  absl::Status Finish() {
    if (!published_) {
      MB_RETURN_IF_ERROR(WriteAll(ack_.get(), TrailerLine(file_), partial_path_));
      if (::fsync(ack_.get()) != 0) return ErrnoError("fsync", partial_path_);
      ack_.Reset();
    }
    const absl::Time now = owner_->clock_();
    store::WriteBatch batch = owner_->store_->NewBatch();
    MB_RETURN_IF_ERROR(
        owner_->folders_
            ->PublishOutboxFile(
                partner_, ack_name_,
                published_ ? owner_->folders_->OutboxFilePath(partner_, ack_name_)
                           : partial_path_,
                batch)
            .status());
    file_.set_status(v1::ACCEPTED);
    *file_.mutable_processed_at() = validation::ToProtoTimestamp(now);
    file_.set_acknowledgement_file_name(ack_name_);
    stored_.clear_plan();
    stored_.clear_next_plan();
    stored_.clear_ack_bytes();
    files::AcceptedSeq accepted;
    accepted.set_file_id(file_.file_id());
    accepted.set_sha256(file_.sha256());
    accepted.set_size_bytes(file_.size_bytes());
    accepted.set_acknowledgement_file_name(ack_name_);
    batch.PutProto(kAccrualFilesTable, FileKey(file_.file_id()), stored_);
    batch.PutProto(kAccrualAcceptedSeqsTable, SeqKey(partner_, header_.seq),
                   accepted);
    batch.Delete(kAccrualPendingTable,
                 PartnerReceiptKey(partner_, stored_.receipt_number()));
    v1::AccrualFileAccepted event;
    *event.mutable_file() = file_;
    batch.AppendEvent(partner_, event);
    uint64_t ticket;
    {
      store::KeyLocks::Guard guard = owner_->partners_->Lock(partner_);
      MB_ASSIGN_OR_RETURN(v1::Partner partner, owner_->partners_->Find(partner_));
      if (partner.last_accepted_file_seq() < header_.seq) {
        partner.set_last_accepted_file_seq(static_cast<int32_t>(header_.seq));
        owner_->partners_->Stage(partner, batch);
      }
      ticket = owner_->store_->Enqueue(batch);
    }
    owner_->store_->Wait(ticket);

    owner_->metrics_->accepted.Add({{"partner", partner_}}).Increment();
    log::Info("file_accepted",
              {{"file_id", file_.file_id()},
               {"partner", partner_},
               {"seq", header_.seq},
               {"records", file_.records_total()},
               {"accepted", file_.records_accepted()},
               {"rejected", file_.records_rejected()},
               {"miles_credited", file_.miles_credited()},
               {"acknowledgement", ack_name_},
               {"run_seconds", absl::ToDoubleSeconds(now - started_)},
               {"since_receipt_seconds",
                absl::ToDoubleSeconds(
                    now - validation::FromProtoTimestamp(file_.received_at()))}});
    owner_->Cleanup(stored_);
    return absl::OkStatus();
  }

  AccrualFiles* const owner_;
  files::StoredAccrualFile& stored_;
  v1::AccrualFile& file_;
  const bool background_;
  absl::Time started_;
  std::string partner_;
  AccrualHeader header_;
  PartnerRules rules_;
  std::string partial_path_;
  std::string ack_name_;
  // The acknowledgement is in the outbox already (a crash came before its
  // commit).
  bool published_ = false;
  Fd ack_;
  std::unique_ptr<BufferedInput> input_;
  std::unique_ptr<AccrualFileReader> reader_;
  // D records read from the file so far.
  int64_t read_ = 0;
  // Counted in the in-progress gauge.
  int64_t unjudged_ = 0;
  absl::flat_hash_map<std::string, absl::optional<MemberFacts>> members_;
};

// ---------------------------------------------------------------------------

AccrualFiles::AccrualFiles(store::Store* store, Partners* partners,
                           DropFolders* folders, MembershipGateway* membership,
                           AccrualGateway* accrual,
                           const airports::AirportTable* airports,
                           AccrualFilesOptions options,
                           prometheus::Registry* metrics, Clock clock)
    : store_(store),
      partners_(partners),
      folders_(folders),
      membership_(membership),
      accrual_(accrual),
      airports_(airports),
      options_([&] {
        if (options.credit_batch_size == 0) options.credit_batch_size = 1000;
        if (options.workers == 0) options.workers = 2;
        return options;
      }()),
      clock_(std::move(clock)) {
  if (options_.credit_batch_size < 1 || options_.credit_batch_size > 1000 ||
      options_.workers < 1 || options_.work_dir.empty() ||
      options_.max_file_bytes < 1 ||
      options_.max_file_bytes > kMaxAccrualFileBytes ||
      options_.crash_after_credit_batches < 0) {
    log::Error("accrual_files_misconfigured",
               {{"credit_batch_size", options_.credit_batch_size},
                {"workers", options_.workers},
                {"work_dir", options_.work_dir}});
    std::abort();
  }
  if (metrics == nullptr) {
    own_registry_ = std::make_unique<prometheus::Registry>();
    metrics = own_registry_.get();
  }
  metrics_ = std::make_unique<Metrics>(*metrics);
  std::error_code error;
  fs::create_directories(options_.work_dir, error);
  if (error) {
    log::Error("accrual_work_dir_unusable",
               {{"work_dir", options_.work_dir}, {"error", error.message()}});
    std::abort();
  }
  absl::MutexLock lock(&receipt_mutex_);
  absl::Status scanned = store_->Scan(
      kAccrualReceiptsTable, store::ScanRange{.reverse = true},
      [&](absl::string_view key, absl::string_view) {
        store::KeyReader(key).Uint64(&last_receipt_);
        return false;
      });
  if (!scanned.ok()) {
    log::Error("accrual_files_unreadable", {{"status", scanned.ToString()}});
    std::abort();
  }
  CleanWorkDir();
}

AccrualFiles::~AccrualFiles() { Stop(); }

std::vector<std::string> AccrualFiles::Tables() {
  return {kAccrualFilesTable,   kAccrualReceiptsTable,
          kAccrualPartnerReceiptsTable, kAccrualPendingTable,
          kAccrualAcceptedSeqsTable,    kAccrualInboxTable};
}

std::string AccrualFiles::WorkCopyPath(absl::string_view file_id) const {
  return absl::StrCat(options_.work_dir, "/", file_id, ".acc.csv");
}

std::string AccrualFiles::PartialAckPath(absl::string_view file_id) const {
  return absl::StrCat(options_.work_dir, "/", file_id, ".ack.partial");
}

// Work files of files that are final (a crash came before they were
// deleted) or were never recorded (an upload cut short by a crash).
void AccrualFiles::CleanWorkDir() {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(options_.work_dir, error)) {
    const std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".acc.csv") && !absl::EndsWith(name, ".ack.partial")) {
      continue;
    }
    const std::string file_id = name.substr(0, name.find('.'));
    files::StoredAccrualFile stored;
    absl::StatusOr<bool> found =
        store_->GetProto(kAccrualFilesTable, FileKey(file_id), &stored);
    if (!found.ok()) continue;
    if (!*found || IsFinal(stored.file().status())) {
      fs::remove(entry.path(), error);
    }
  }
}

// ---------------------------------------------------------------------------
// Receipt

absl::Status AccrualFiles::CheckSender(const v1::UploadMetadata& metadata,
                                       absl::string_view authenticated_partner) {
  const std::string& code = metadata.partner_code();
  if (!IsPartnerCodeText(code)) {
    return InvalidField("metadata.partner_code",
                        "required: the sender, 2-8 characters of A-Z and 0-9");
  }
  if (!authenticated_partner.empty() && authenticated_partner != code) {
    return absl::PermissionDeniedError(
        absl::StrCat("metadata.partner_code: the connection is authenticated "
                     "as partner ",
                     authenticated_partner, ", not ", code));
  }
  absl::StatusOr<v1::Partner> partner = partners_->Find(code);
  if (partner.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField("metadata.partner_code",
                         absl::StrCat("no partner ", code));
  }
  MB_RETURN_IF_ERROR(partner.status());
  if (!metadata.file_name().empty()) {
    absl::optional<AccrualFileName> name =
        ParseAccrualFileName(metadata.file_name());
    if (!name.has_value() || name->partner != code) {
      return InvalidField(
          "metadata.file_name",
          absl::StrCat("must be <PARTNER>_<SEQ>.acc.csv with PARTNER the "
                       "sender ",
                       code, " and SEQ 6 digits, e.g. ", code,
                       "_000042.acc.csv"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<files::StoredAccrualFile> AccrualFiles::Record(
    files::StoredAccrualFile stored, const std::string& inbox_key) {
  const v1::AccrualFile& file = stored.file();
  uint64_t ticket;
  {
    absl::MutexLock lock(&receipt_mutex_);
    stored.set_receipt_number(++last_receipt_);
    store::WriteBatch batch = store_->NewBatch();
    batch.PutProto(kAccrualFilesTable, FileKey(file.file_id()), stored);
    batch.Put(kAccrualReceiptsTable, ReceiptKey(stored.receipt_number()),
              file.file_id());
    batch.Put(kAccrualPartnerReceiptsTable,
              PartnerReceiptKey(file.partner_code(), stored.receipt_number()),
              file.file_id());
    batch.Put(kAccrualPendingTable,
              PartnerReceiptKey(file.partner_code(), stored.receipt_number()),
              file.file_id());
    if (!inbox_key.empty()) {
      batch.Put(kAccrualInboxTable, inbox_key, file.file_id());
    }
    ticket = store_->Enqueue(batch);
  }
  store_->Wait(ticket);
  return stored;
}

void AccrualFiles::Received(const files::StoredAccrualFile& stored,
                            absl::string_view via) {
  const v1::AccrualFile& file = stored.file();
  metrics_->received.Add({{"partner", file.partner_code()}}).Increment();
  log::Info("file_received", {{"file_id", file.file_id()},
                              {"partner", file.partner_code()},
                              {"file_name", file.file_name()},
                              {"size_bytes", file.size_bytes()},
                              {"sha256", file.sha256()},
                              {"oversize", stored.oversize()},
                              {"via", via}});
  Notify(file.partner_code());
}

absl::StatusOr<v1::UploadAccrualFileResponse> AccrualFiles::UploadAccrualFile(
    const ReadUploadMessage& read, absl::string_view authenticated_partner,
    const std::function<bool()>& cancelled) {
  v1::UploadAccrualFileRequest message;
  if (!read(&message)) {
    return InvalidField("metadata",
                        "missing: the stream ended before its first message");
  }
  if (!message.has_metadata()) {
    return InvalidField("metadata",
                        "missing: the first message must be the metadata, "
                        "before any chunk");
  }
  const v1::UploadMetadata metadata = message.metadata();
  MB_RETURN_IF_ERROR(CheckSender(metadata, authenticated_partner));

  files::StoredAccrualFile stored;
  v1::AccrualFile& file = *stored.mutable_file();
  file.set_file_id(crypto::RandomHex(16));
  MB_ASSIGN_OR_RETURN(std::unique_ptr<WorkCopy> copy,
                      WorkCopy::Create(WorkCopyPath(file.file_id()),
                                       options_.max_file_bytes));
  while (!copy->oversize() && read(&message)) {
    if (message.has_metadata()) {
      return InvalidField("metadata",
                          "sent again: the metadata is the first message "
                          "only");
    }
    if (message.chunk().size() > kMaxChunkBytes) {
      return InvalidField("chunk", "at most 1 MiB per message");
    }
    MB_RETURN_IF_ERROR(copy->Add(message.chunk()));
  }
  if (cancelled && cancelled()) {
    return absl::CancelledError("the upload was cancelled; nothing was stored");
  }
  MB_RETURN_IF_ERROR(copy->Keep(options_.work_dir, &file));
  file.set_partner_code(metadata.partner_code());
  file.set_file_name(metadata.file_name());
  file.set_status(v1::RECEIVED);
  *file.mutable_received_at() = validation::ToProtoTimestamp(clock_());
  stored.set_oversize(copy->oversize());
  MB_ASSIGN_OR_RETURN(stored, Record(std::move(stored), ""));
  Received(stored, "upload");
  v1::UploadAccrualFileResponse response;
  *response.mutable_file() = stored.file();
  return response;
}

absl::Status AccrualFiles::ReceiveInboxFile(const InboxFile& inbox) {
  if (absl::EndsWith(inbox.file_name, ".ack.csv")) {
    return InvalidField("file_name",
                        "an acknowledgement, not an accrual file");
  }
  const std::string key = InboxKey(inbox.partner_code, inbox.file_name);
  store::KeyLocks::Guard guard = inbox_locks_.Lock(key);
  MB_ASSIGN_OR_RETURN(std::optional<std::string> known,
                      store_->GetLatest(kAccrualInboxTable, key));
  if (known.has_value()) {
    files::StoredAccrualFile stored;
    MB_ASSIGN_OR_RETURN(bool found, store_->GetLatestProto(
                                        kAccrualFilesTable, FileKey(*known),
                                        &stored));
    if (!found) {
      return absl::InternalError(absl::StrCat(
          "inbox file ", inbox.file_name, " names unknown file ", *known));
    }
    // Still to be acknowledged: it is in line already.
    if (!IsFinal(stored.file().status())) return absl::OkStatus();
    return FinishInboxLocked(stored);
  }
  absl::StatusOr<v1::Partner> partner = partners_->Find(inbox.partner_code);
  if (partner.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField("partner_code",
                         absl::StrCat("no partner ", inbox.partner_code));
  }
  MB_RETURN_IF_ERROR(partner.status());

  files::StoredAccrualFile stored;
  v1::AccrualFile& file = *stored.mutable_file();
  file.set_file_id(crypto::RandomHex(16));
  MB_ASSIGN_OR_RETURN(std::unique_ptr<WorkCopy> copy,
                      WorkCopy::Create(WorkCopyPath(file.file_id()),
                                       options_.max_file_bytes));
  Fd in(::open(inbox.path.c_str(), O_RDONLY));
  if (in.get() < 0) return ErrnoError("open", inbox.path);
  std::string buffer(kReadBufferBytes, '\0');
  while (!copy->oversize()) {
    ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoError("read", inbox.path);
    if (got == 0) break;
    MB_RETURN_IF_ERROR(
        copy->Add(absl::string_view(buffer.data(), static_cast<size_t>(got))));
  }
  MB_RETURN_IF_ERROR(copy->Keep(options_.work_dir, &file));
  file.set_partner_code(inbox.partner_code);
  file.set_file_name(inbox.file_name);
  file.set_status(v1::RECEIVED);
  *file.mutable_received_at() = validation::ToProtoTimestamp(clock_());
  stored.set_from_inbox(true);
  stored.set_oversize(copy->oversize());
  MB_ASSIGN_OR_RETURN(stored, Record(std::move(stored), key));
  Received(stored, "inbox");
  return absl::OkStatus();
}

absl::Status AccrualFiles::FinishInbox(const files::StoredAccrualFile& stored) {
  store::KeyLocks::Guard guard = inbox_locks_.Lock(
      InboxKey(stored.file().partner_code(), stored.file().file_name()));
  return FinishInboxLocked(stored);
}

absl::Status AccrualFiles::FinishInboxLocked(
    const files::StoredAccrualFile& stored) {
  const v1::AccrualFile& file = stored.file();
  const std::string path = absl::StrCat(folders_->InboxPath(file.partner_code()),
                                        "/", file.file_name());
  MB_ASSIGN_OR_RETURN(absl::optional<Fingerprint> now,
                      FingerprintOf(path, options_.max_file_bytes));
  if (now.has_value()) {
    // The partner may have put a new file under the same name meanwhile:
    // only the file received is moved; a newcomer waits for the next look,
    // which receives it.
    if (now->sha256 == file.sha256() &&
        now->size == static_cast<uint64_t>(file.size_bytes()) &&
        now->more == stored.oversize()) {
      MB_RETURN_IF_ERROR(
          folders_->MoveToProcessed(file.partner_code(), file.file_name()));
    } else {
      log::Warning("inbox_file_replaced", {{"file_id", file.file_id()},
                                           {"partner", file.partner_code()},
                                           {"file_name", file.file_name()}});
    }
  }
  store::WriteBatch batch = store_->NewBatch();
  batch.Delete(kAccrualInboxTable,
               InboxKey(file.partner_code(), file.file_name()));
  return store_->Commit(batch);
}

// ---------------------------------------------------------------------------
// Processing

absl::StatusOr<absl::optional<files::AcceptedSeq>> AccrualFiles::AcceptedUnder(
    absl::string_view partner, int64_t seq) const {
  files::AcceptedSeq accepted;
  MB_ASSIGN_OR_RETURN(bool found,
                      store_->GetLatestProto(kAccrualAcceptedSeqsTable,
                                             SeqKey(partner, seq), &accepted));
  if (!found) return absl::optional<files::AcceptedSeq>();
  return absl::optional<files::AcceptedSeq>(std::move(accepted));
}

absl::Status AccrualFiles::ProcessPartner(const std::string& partner,
                                          bool background) {
  while (!(background && stopping())) {
    std::string file_id;
    MB_RETURN_IF_ERROR(store_->Scan(
        kAccrualPendingTable, store::PrefixRange(PartnerPrefix(partner)),
        [&](absl::string_view, absl::string_view value) {
          file_id = std::string(value);
          return false;
        }));
    if (file_id.empty()) return absl::OkStatus();
    MB_RETURN_IF_ERROR(ProcessFile(file_id, background));
  }
  return absl::OkStatus();
}

absl::Status AccrualFiles::ProcessFile(const std::string& file_id,
                                       bool background) {
  files::StoredAccrualFile stored;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetLatestProto(
                                      kAccrualFilesTable, FileKey(file_id),
                                      &stored));
  if (!found) {
    return absl::InternalError(
        absl::StrCat("pending accrual file ", file_id, " is not recorded"));
  }
  if (stored.file().status() == v1::RECEIVED) {
    MB_RETURN_IF_ERROR(CheckWholeFile(stored));
  }
  if (stored.file().status() == v1::PROCESSING) {
    FileRun run(this, &stored, background);
    return run.Run();
  }
  return absl::OkStatus();
}

absl::Status AccrualFiles::CheckWholeFile(files::StoredAccrualFile& stored) {
  const v1::AccrualFile& file = stored.file();
  MB_ASSIGN_OR_RETURN(v1::Partner partner, partners_->Find(file.partner_code()));
  FileContext context;
  context.sender_partner = file.partner_code();
  context.partner_active = partner.status() == v1::ACTIVE;
  context.last_accepted_seq = partner.last_accepted_file_seq();
  absl::Status lookup;
  context.identical_to_accepted = [&](int64_t seq) {
    absl::StatusOr<absl::optional<files::AcceptedSeq>> accepted =
        AcceptedUnder(file.partner_code(), seq);
    if (!accepted.ok()) {
      lookup = accepted.status();
      return false;
    }
    return accepted->has_value() && (*accepted)->sha256() == file.sha256() &&
           (*accepted)->size_bytes() == file.size_bytes();
  };
  if (!file.file_name().empty()) context.file_name = file.file_name();
  context.received_at = validation::FromProtoTimestamp(file.received_at());
  // An oversize file holds exactly the limit: one byte less makes the
  // reader find it too large, after checks 1-5 had their say.
  context.max_bytes = options_.max_file_bytes - (stored.oversize() ? 1 : 0);

  BufferedInput input(WorkCopyPath(file.file_id()));
  if (!input.is_open()) {
    return absl::DataLossError(absl::StrCat(
        "the received copy of accrual file ", file.file_id(), " is gone"));
  }
  const FileCheck check = AccrualFileReader::CheckFile(input.stream(), context);
  MB_RETURN_IF_ERROR(lookup);
  if (input.stream().bad()) {
    return absl::InternalError(absl::StrCat(
        "reading the received copy of accrual file ", file.file_id(), " failed"));
  }
  v1::AccrualFile& recorded = *stored.mutable_file();
  if (check.header.has_value()) {
    recorded.set_header_seq(static_cast<int32_t>(check.header->seq));
    *recorded.mutable_header_created() =
        validation::ToProtoTimestamp(check.header->created);
  }
  const absl::Time now = clock_();
  switch (check.outcome) {
    case FileCheck::Outcome::kRefused:
      return Refuse(stored, check, now);
    case FileCheck::Outcome::kIdenticalToAccepted:
      return AcceptIdentical(stored, check, now);
    case FileCheck::Outcome::kPassed:
      return BeginProcessing(stored, check, now);
  }
  return absl::InternalError("unknown outcome of the whole-file checks");
}

absl::Status AccrualFiles::Refuse(files::StoredAccrualFile& stored,
                                  const FileCheck& check, absl::Time now) {
  v1::AccrualFile& file = *stored.mutable_file();
  const std::string& partner = file.partner_code();
  MB_ASSIGN_OR_RETURN(absl::optional<files::AcceptedSeq> accepted,
                      AcceptedUnder(partner, check.ack_seq));
  const std::string name = AckFileName(partner, check.ack_seq, /*refused=*/true,
                                       accepted.has_value());
  store::WriteBatch batch = store_->NewBatch();
  MB_RETURN_IF_ERROR(
      folders_
          ->WriteOutboxFile(partner, name,
                            RefusalAcknowledgement(partner, check.ack_seq, now,
                                                   check.code, check.message),
                            batch)
          .status());
  file.set_status(v1::REFUSED);
  file.set_refusal_code(check.code);
  file.set_refusal_message(check.message);
  *file.mutable_processed_at() = validation::ToProtoTimestamp(now);
  file.set_acknowledgement_file_name(name);
  batch.PutProto(kAccrualFilesTable, FileKey(file.file_id()), stored);
  batch.Delete(kAccrualPendingTable,
               PartnerReceiptKey(partner, stored.receipt_number()));
  v1::AccrualFileRefused event;
  *event.mutable_file() = file;
  batch.AppendEvent(partner, event);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  metrics_->refused
      .Add({{"partner", partner},
            {"code", v1::FileRefusalCode_Name(check.code)}})
      .Increment();
  log::Info("file_refused", {{"file_id", file.file_id()},
                             {"partner", partner},
                             {"file_name", file.file_name()},
                             {"code", v1::FileRefusalCode_Name(check.code)},
                             {"message", check.message},
                             {"acknowledgement", name}});
  Cleanup(stored);
  return absl::OkStatus();
}

absl::Status AccrualFiles::AcceptIdentical(files::StoredAccrualFile& stored,
                                           const FileCheck& check,
                                           absl::Time now) {
  v1::AccrualFile& file = *stored.mutable_file();
  const std::string& partner = file.partner_code();
  MB_ASSIGN_OR_RETURN(absl::optional<files::AcceptedSeq> accepted,
                      AcceptedUnder(partner, check.header->seq));
  if (!accepted.has_value()) {
    return absl::InternalError(absl::StrCat("no accepted file under seq ",
                                            check.header->seq, " of ", partner));
  }
  file.set_status(v1::ACCEPTED);
  file.set_identical_to_file_id(accepted->file_id());
  file.set_acknowledgement_file_name(accepted->acknowledgement_file_name());
  *file.mutable_processed_at() = validation::ToProtoTimestamp(now);
  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kAccrualFilesTable, FileKey(file.file_id()), stored);
  batch.Delete(kAccrualPendingTable,
               PartnerReceiptKey(partner, stored.receipt_number()));
  v1::AccrualFileAccepted event;
  *event.mutable_file() = file;
  batch.AppendEvent(partner, event);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  metrics_->resent.Add({{"partner", partner}}).Increment();
  log::Info("file_resent_identical",
            {{"file_id", file.file_id()},
             {"partner", partner},
             {"seq", check.header->seq},
             {"identical_to_file_id", accepted->file_id()},
             {"acknowledgement", accepted->acknowledgement_file_name()}});
  Cleanup(stored);
  return absl::OkStatus();
}

absl::Status AccrualFiles::BeginProcessing(files::StoredAccrualFile& stored,
                                           const FileCheck& check,
                                           absl::Time now) {
  v1::AccrualFile& file = *stored.mutable_file();
  std::ostringstream head;
  AckWriter writer(&head, file.partner_code(), check.header->seq, now);
  const std::string header_line = head.str();
  const std::string path = PartialAckPath(file.file_id());
  {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (fd.get() < 0) return ErrnoError("create", path);
    MB_RETURN_IF_ERROR(WriteAll(fd.get(), header_line, path));
    if (::fsync(fd.get()) != 0) return ErrnoError("fsync", path);
  }
  MB_RETURN_IF_ERROR(SyncFolder(options_.work_dir));
  file.set_status(v1::PROCESSING);
  file.set_records_total(check.record_count);
  stored.set_ack_bytes(header_line.size());
  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kAccrualFilesTable, FileKey(file.file_id()), stored);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  log::Info("file_processing", {{"file_id", file.file_id()},
                                {"partner", file.partner_code()},
                                {"seq", check.header->seq},
                                {"records", check.record_count}});
  return absl::OkStatus();
}

void AccrualFiles::Cleanup(const files::StoredAccrualFile& stored) {
  if (stored.from_inbox()) {
    absl::Status moved = FinishInbox(stored);
    if (!moved.ok()) {
      // The next look into the inbox moves it.
      log::Warning("inbox_move_failed", {{"file_id", stored.file().file_id()},
                                         {"status", moved.ToString()}});
    }
  }
  ::unlink(WorkCopyPath(stored.file().file_id()).c_str());
  ::unlink(PartialAckPath(stored.file().file_id()).c_str());
}

void AccrualFiles::CountCommittedBatch() {
  const int64_t committed = committed_batches_.fetch_add(1) + 1;
  if (options_.crash_after_credit_batches > 0 &&
      committed >= options_.crash_after_credit_batches) {
    log::Warning("crash_after_credit_batches", {{"batches", committed}});
    ::_exit(137);
  }
}

// ---------------------------------------------------------------------------
// Scheduling

bool AccrualFiles::stopping() const {
  absl::MutexLock lock(&mutex_);
  return stopping_;
}

bool AccrualFiles::WaitUnlessStopping(absl::Duration wait) {
  absl::MutexLock lock(&mutex_);
  const absl::Time until = absl::Now() + wait;
  while (!stopping_ && absl::Now() < until) {
    changed_.WaitWithDeadline(&mutex_, until);
  }
  return !stopping_;
}

void AccrualFiles::Notify(const std::string& partner) {
  absl::MutexLock lock(&mutex_);
  if (busy_.count(partner) > 0) {
    rescan_.insert(partner);
  } else if (queued_.count(partner) == 0) {
    queued_[partner] = QueueEntry{absl::InfinitePast(), false, ++next_order_};
  }
  changed_.SignalAll();
}

absl::StatusOr<std::vector<std::string>> AccrualFiles::PendingPartners() {
  std::vector<std::string> resume, waiting;
  std::string last;
  absl::Status status;
  MB_RETURN_IF_ERROR(store_->Scan(
      kAccrualPendingTable, store::ScanRange{},
      [&](absl::string_view key, absl::string_view value) {
        std::string partner;
        store::KeyReader(key).String(&partner);
        if (partner == last) return true;
        last = partner;
        files::StoredAccrualFile stored;
        absl::StatusOr<bool> found = store_->GetProto(
            kAccrualFilesTable, FileKey(value), &stored);
        if (!found.ok()) {
          status = found.status();
          return false;
        }
        (stored.file().status() == v1::PROCESSING ? resume : waiting)
            .push_back(partner);
        return true;
      }));
  MB_RETURN_IF_ERROR(status);
  resume.insert(resume.end(), waiting.begin(), waiting.end());
  return resume;
}

void AccrualFiles::Start() {
  {
    absl::MutexLock lock(&mutex_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  absl::StatusOr<std::vector<std::string>> pending = PendingPartners();
  if (!pending.ok()) {
    log::Error("accrual_files_pending_unreadable",
               {{"status", pending.status().ToString()}});
  }
  {
    absl::MutexLock lock(&mutex_);
    if (pending.ok()) {
      for (const std::string& partner : *pending) {
        // In order: interrupted files first.
        queued_[partner] = QueueEntry{absl::InfinitePast(), true, ++next_order_};
      }
    }
    for (int i = 0; i < options_.workers; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
    changed_.SignalAll();
  }
}

void AccrualFiles::Stop() {
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    workers.swap(workers_);
    changed_.SignalAll();
  }
  for (std::thread& worker : workers) worker.join();
}

void AccrualFiles::WorkerLoop() {
  while (true) {
    std::string partner;
    {
      absl::MutexLock lock(&mutex_);
      while (true) {
        if (stopping_) return;
        const absl::Time now = absl::Now();
        absl::Time earliest = now + absl::Seconds(1);
        auto best = queued_.end();
        for (auto it = queued_.begin(); it != queued_.end(); ++it) {
          if (busy_.count(it->first) > 0) continue;
          if (it->second.not_before > now) {
            earliest = std::min(earliest, it->second.not_before);
            continue;
          }
          if (best == queued_.end() ||
              (it->second.resume != best->second.resume
                   ? it->second.resume
                   : it->second.order < best->second.order)) {
            best = it;
          }
        }
        if (best != queued_.end()) {
          partner = best->first;
          queued_.erase(best);
          busy_.insert(partner);
          break;
        }
        changed_.WaitWithDeadline(&mutex_, earliest);
      }
    }
    absl::Status outcome = ProcessPartner(partner, /*background=*/true);
    if (!outcome.ok() && !absl::IsCancelled(outcome)) {
      log::Warning("accrual_file_waits", {{"partner", partner},
                                          {"status", outcome.ToString()}});
    }
    Release(partner, outcome);
  }
}

void AccrualFiles::Claim(const std::string& partner) {
  absl::MutexLock lock(&mutex_);
  while (busy_.count(partner) > 0) changed_.Wait(&mutex_);
  busy_.insert(partner);
}

void AccrualFiles::Release(const std::string& partner,
                           const absl::Status& outcome) {
  absl::MutexLock lock(&mutex_);
  busy_.erase(partner);
  if (!outcome.ok() && !absl::IsCancelled(outcome)) {
    absl::Duration& backoff = backoff_[partner];
    backoff = backoff == absl::ZeroDuration()
                  ? kFirstBackoff
                  : std::min(backoff * 2, kMaxBackoff);
    queued_[partner] =
        QueueEntry{absl::Now() + backoff, false, ++next_order_};
    rescan_.erase(partner);
  } else {
    backoff_.erase(partner);
    if (rescan_.erase(partner) > 0 && queued_.count(partner) == 0) {
      queued_[partner] = QueueEntry{absl::InfinitePast(), false, ++next_order_};
    }
  }
  changed_.SignalAll();
}

absl::Status AccrualFiles::ProcessPending() {
  MB_ASSIGN_OR_RETURN(std::vector<std::string> partners, PendingPartners());
  absl::Status first;
  for (const std::string& partner : partners) {
    Claim(partner);
    absl::Status outcome = ProcessPartner(partner, /*background=*/false);
    Release(partner, outcome);
    if (first.ok()) first = outcome;
  }
  return first;
}

// ---------------------------------------------------------------------------
// Queries

absl::StatusOr<v1::GetAccrualFileResponse> AccrualFiles::GetAccrualFile(
    const v1::GetAccrualFileRequest& request) {
  if (request.file_id().empty()) return InvalidField("file_id", "required");
  files::StoredAccrualFile stored;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetProto(kAccrualFilesTable,
                                                   FileKey(request.file_id()),
                                                   &stored));
  if (!found) {
    return NotFoundField("file_id",
                         absl::StrCat("no accrual file ", request.file_id()));
  }
  v1::GetAccrualFileResponse response;
  *response.mutable_file() = std::move(*stored.mutable_file());
  return response;
}

absl::StatusOr<v1::ListAccrualFilesResponse> AccrualFiles::ListAccrualFiles(
    const v1::ListAccrualFilesRequest& request) {
  MB_ASSIGN_OR_RETURN(const int page_size, PageSize(request.page()));
  uint64_t before = 0;
  if (!request.page().page_token().empty() &&
      (!absl::SimpleAtoi(request.page().page_token(), &before) || before == 0)) {
    return InvalidField("page.page_token", "not a token this list gave");
  }
  const std::string& partner = request.partner_code();
  if (!partner.empty()) {
    if (!IsPartnerCodeText(partner)) {
      return InvalidField("partner_code", "must be 2-8 characters of A-Z and 0-9");
    }
    absl::StatusOr<v1::Partner> found = partners_->Find(partner);
    if (found.status().code() == absl::StatusCode::kNotFound) {
      return NotFoundField("partner_code", absl::StrCat("no partner ", partner));
    }
    MB_RETURN_IF_ERROR(found.status());
  }
  const std::set<int> statuses(request.statuses().begin(),
                               request.statuses().end());

  // Newest receipt first: a reverse scan from just below the token.
  absl::string_view table =
      partner.empty() ? kAccrualReceiptsTable : kAccrualPartnerReceiptsTable;
  store::ScanRange range;
  range.reverse = true;
  if (partner.empty()) {
    if (before > 0) range.end = ReceiptKey(before);
  } else {
    range = store::PrefixRange(PartnerPrefix(partner));
    range.reverse = true;
    if (before > 0) range.end = PartnerReceiptKey(partner, before);
  }
  v1::ListAccrualFilesResponse response;
  uint64_t last_receipt = 0;
  absl::Status status;
  MB_RETURN_IF_ERROR(store_->Scan(
      table, range, [&](absl::string_view, absl::string_view file_id) {
        files::StoredAccrualFile stored;
        absl::StatusOr<bool> found =
            store_->GetProto(kAccrualFilesTable, FileKey(file_id), &stored);
        if (!found.ok() || !*found) {
          status = found.ok() ? absl::DataLossError(absl::StrCat(
                                    "listed accrual file ", file_id,
                                    " is not recorded"))
                              : found.status();
          return false;
        }
        if (!statuses.empty() && statuses.count(stored.file().status()) == 0) {
          return true;
        }
        if (response.files_size() == page_size) {
          response.mutable_page()->set_next_page_token(
              absl::StrCat(last_receipt));
          return false;
        }
        last_receipt = stored.receipt_number();
        *response.add_files() = std::move(*stored.mutable_file());
        return true;
      }));
  MB_RETURN_IF_ERROR(status);
  return response;
}

absl::StatusOr<v1::GetAcknowledgementResponse> AccrualFiles::GetAcknowledgement(
    const v1::GetAcknowledgementRequest& request) {
  if (request.file_id().empty()) return InvalidField("file_id", "required");
  MB_ASSIGN_OR_RETURN(const int page_size, PageSize(request.page()));
  files::StoredAccrualFile stored;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetProto(kAccrualFilesTable,
                                                   FileKey(request.file_id()),
                                                   &stored));
  if (!found) {
    return NotFoundField("file_id",
                         absl::StrCat("no accrual file ", request.file_id()));
  }
  const v1::AccrualFile& file = stored.file();
  if (!IsFinal(file.status())) {
    return FailedPreconditionField(
        "file_id", absl::StrCat("accrual file ", file.file_id(), " is ",
                                v1::FileStatus_Name(file.status()),
                                ": it is acknowledged once processed"));
  }
  v1::GetAcknowledgementResponse response;
  response.set_file_name(file.acknowledgement_file_name());
  response.set_partner_code(file.partner_code());

  if (file.status() == v1::REFUSED) {
    // Answered from the record: a later refusal under the same seq writes
    // an acknowledgement of the same name over this one.
    response.set_seq(file.acknowledgement_file_name().substr(
        file.partner_code().size() + 1, 6));
    *response.mutable_processed_at() = validation::ToProtoTimestamp(
        absl::FromUnixSeconds(absl::ToUnixSeconds(
            validation::FromProtoTimestamp(file.processed_at()))));
    response.set_refusal_code(file.refusal_code());
    response.set_refusal_message(file.refusal_message());
    return response;
  }

  // Accepted: the R lines, read from the outbox file, which nothing
  // replaces. The page token is the byte offset of the next R line.
  const std::string path =
      folders_->OutboxFilePath(file.partner_code(), file.acknowledgement_file_name());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::DataLossError(absl::StrCat("the acknowledgement ", path,
                                            " is missing from the outbox"));
  }
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  csv::CsvRecord line;
  uint64_t offset;
  {
    csv::CsvReader reader(in);
    if (!reader.Next(&line) || line.fields.size() != 5 || line.fields[0] != "H") {
      return absl::DataLossError(absl::StrCat(path, ": no H line"));
    }
    offset = reader.bytes_read();
  }
  response.set_seq(line.fields[2]);
  if (absl::optional<absl::Time> processed = ParseTimestamp(line.fields[3])) {
    *response.mutable_processed_at() = validation::ToProtoTimestamp(*processed);
  }
  // The T line: the last of the file.
  {
    const uint64_t from = size > 256 ? size - 256 : 0;
    std::string tail(size - from, '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(from));
    in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
    absl::string_view last(tail);
    if (absl::EndsWith(last, "\n")) last.remove_suffix(1);
    last = last.substr(last.rfind('\n') + 1);
    std::istringstream trailer_in{std::string(last)};
    csv::CsvReader trailer_reader(trailer_in);
    csv::CsvRecord trailer;
    int64_t values[4];
    if (!trailer_reader.Next(&trailer) || trailer.fields.size() != 5 ||
        trailer.fields[0] != "T" ||
        !absl::SimpleAtoi(trailer.fields[1], &values[0]) ||
        !absl::SimpleAtoi(trailer.fields[2], &values[1]) ||
        !absl::SimpleAtoi(trailer.fields[3], &values[2]) ||
        !absl::SimpleAtoi(trailer.fields[4], &values[3])) {
      return absl::DataLossError(absl::StrCat(path, ": no T line"));
    }
    response.set_count(values[0]);
    response.set_accepted(values[1]);
    response.set_rejected(values[2]);
    response.set_total_miles_credited(values[3]);
  }
  if (!request.page().page_token().empty()) {
    uint64_t token = 0;
    bool at_line = absl::SimpleAtoi(request.page().page_token(), &token) &&
                   token >= offset && token < size;
    if (at_line) {
      char before = 0;
      in.clear();
      in.seekg(static_cast<std::streamoff>(token - 1));
      at_line = in.get(before) && before == '\n' && in.peek() == 'R';
    }
    if (!at_line) {
      return InvalidField("page.page_token", "not a token this list gave");
    }
    offset = token;
  }
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  csv::CsvReader reader(in);
  while (true) {
    const uint64_t at = offset + reader.bytes_read();
    v1::AcknowledgedRecord record;
    if (!reader.Next(&line) || !ParseRecordLine(line.fields, &record)) {
      break;  // The T line.
    }
    if (response.records_size() == page_size) {
      response.mutable_page()->set_next_page_token(absl::StrCat(at));
      break;
    }
    *response.add_records() = std::move(record);
  }
  return response;
}

}  // namespace mileagebank::settlement
