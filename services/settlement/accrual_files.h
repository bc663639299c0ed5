// AccrualFiles: the accrual files partners send the mileage bank
// (partner-files.md sections 1, 2 and 5), from receipt to acknowledgement.
//
//   AccrualFiles files(store, &partners, &folders, &membership, &accrual,
//                      &airports::AirportTable::Builtin(),
//                      {.work_dir = data_dir + "/accrual-work"}, &registry);
//   files.Start();  // background workers
//   // gRPC upload (service.cc) and drop folder (the inbox watcher):
//   absl::StatusOr<v1::UploadAccrualFileResponse> received =
//       files.UploadAccrualFile(read_next_message, authenticated_partner);
//   absl::Status taken = files.ReceiveInboxFile(inbox_file);
//
// The life of a file:
// - Receipt: the bytes are copied into <work_dir>/<file_id>.acc.csv (SHA-256
//   and size computed on the way), fsynced, and only then is the file
//   recorded RECEIVED, in one batch. An inbox file is also recorded under
//   its (partner, name), so that looking at the same inbox file again (after
//   a restart too) does not receive it twice.
// - A partner's files are processed one at a time, in receipt order; files
//   of different partners in parallel (AccrualFilesOptions::workers).
// - Pass 1, the whole-file checks (accrual_file.h), against the partner as
//   it is when the file's turn comes and the moment of receipt. A refused
//   file gets an acknowledgement with an E line in the outbox and becomes
//   REFUSED. A file byte-identical to the file accepted under its seq gets
//   nothing new: it becomes ACCEPTED with identical_to_file_id and the
//   earlier acknowledgement's name, records counts 0 (nothing of it was
//   processed; the earlier acknowledgement stays in the outbox unchanged).
//   A file that passes becomes PROCESSING.
// - Pass 2, in batches of credit_batch_size records: the verdicts of record
//   checks 1-6 (members looked up in membership, merges followed) are fixed
//   and stored first; a batch is never sent before its verdicts are
//   durable. The records that passed go to accrual in one PostActivities
//   call, keyed by PartnerSource{file_id, record_number}; the batch's R
//   lines are appended to <work_dir>/<file_id>.ack.partial and fsynced;
//   then one batch commits the progress with an AccrualRecordsJudged event
//   and the verdicts of the two batches after it (plan, next_plan). Two
//   batches are in flight: the batch after next goes to accrual as soon as
//   that commit has stored its verdicts, while accrual still decides or
//   makes durable the next one; it names the next one as the batch to be
//   decided first (PostActivitiesRequest.decide_after), so accrual decides
//   the batches in file order (or refuses the later one, which is then
//   sent again after the next is answered). A crash can leave at most the two planned
//   batches credited beyond the committed progress; a restart resends
//   both. A batch accrual cannot answer (unavailable, the
//   partner not yet known to it ...) is tried again later as a whole:
//   accrual replays what it already credited.
// - A restart truncates the partial acknowledgement to the committed
//   length and continues with the first record not committed, with the
//   verdicts stored for it and for the batch after it: what was credited
//   before the crash is replayed and shows ACCEPTED with its miles, so the
//   acknowledgement is the one an uninterrupted run writes, byte for byte
//   (its H line, with the processed timestamp, is written once when the
//   file starts PROCESSING).
// - End: the T line; the acknowledgement is published into the outbox and
//   one batch records the file ACCEPTED, the partner's
//   last_accepted_file_seq, the seq's accepted file and an
//   AccrualFileAccepted event. Then the inbox original moves to processed/
//   and the work copy is deleted.
//
// Tables (Tables()), keys as in libs/store/keys.h:
//   accrual_files             String(file_id) -> files.StoredAccrualFile
//   accrual_receipts          Uint64(receipt_number) -> file_id
//   accrual_partner_receipts  String(partner) Uint64(receipt_number) -> file_id
//   accrual_pending           String(partner) Uint64(receipt_number) -> file_id
//                             (RECEIVED and PROCESSING files only)
//   accrual_accepted_seqs     String(partner) Int64(seq) -> files.AcceptedSeq
//   accrual_inbox             String(partner) String(file_name) -> file_id
//                             (until the original is in processed/)
//
// Memory stays bounded whatever the file's size: one record read at a
// time, three batches in hand, and a per-file cache of at most
// kMaxCachedMembers members.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILES_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILES_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/airports/airports.h"
#include "libs/store/key_locks.h"
#include "libs/store/store.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/settlement/accrual_file.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/files.pb.h"
#include "services/settlement/neighbours.h"
#include "services/settlement/partners.h"

namespace mileagebank::settlement {

inline constexpr char kAccrualFilesTable[] = "accrual_files";
inline constexpr char kAccrualReceiptsTable[] = "accrual_receipts";
inline constexpr char kAccrualPartnerReceiptsTable[] =
    "accrual_partner_receipts";
inline constexpr char kAccrualPendingTable[] = "accrual_pending";
inline constexpr char kAccrualAcceptedSeqsTable[] = "accrual_accepted_seqs";
inline constexpr char kAccrualInboxTable[] = "accrual_inbox";

// Members remembered while one file is processed; the cache starts again
// when full.
inline constexpr size_t kMaxCachedMembers = 100'000;

struct AccrualFilesOptions {
  // Where received bytes and partial acknowledgements live (under the data
  // dir); created when missing.
  std::string work_dir;
  // Records per PostActivities call and per durable progress step: 1 to
  // 1,000 (0 means 1,000).
  int credit_batch_size = 1000;
  // Test only: _exit the process (as SIGKILL would) after this many
  // committed batches in this process. 0: never.
  int crash_after_credit_batches = 0;
  // Files of different partners processed in parallel; one partner's files
  // strictly one at a time in receipt order (0 means 2).
  int workers = 2;
  // The largest file kept: the interface's 1 GiB (at most); smaller in
  // tests.
  uint64_t max_file_bytes = kMaxAccrualFileBytes;
};

class AccrualFiles {
 public:
  using Clock = std::function<absl::Time()>;
  // The next message of an upload stream; false at its end.
  using ReadUploadMessage = std::function<bool(v1::UploadAccrualFileRequest*)>;

  // Everything passed outlives the AccrualFiles; `store` was opened with
  // Tables(), kPartnersTable and kOutboxTable. `metrics` may be null (then
  // the metrics are kept but not exported). Crashes on options out of range
  // (a misconfiguration at start).
  AccrualFiles(store::Store* store, Partners* partners, DropFolders* folders,
               MembershipGateway* membership, AccrualGateway* accrual,
               const airports::AirportTable* airports,
               AccrualFilesOptions options, prometheus::Registry* metrics,
               Clock clock = absl::Now);
  // Stops the workers.
  ~AccrualFiles();

  AccrualFiles(const AccrualFiles&) = delete;
  AccrualFiles& operator=(const AccrualFiles&) = delete;

  // The store tables it uses.
  static std::vector<std::string> Tables();

  // A streaming upload: metadata first (exactly once), then the bytes in
  // chunks of at most 1 MiB. `authenticated_partner` empty means staff or an
  // internal caller; otherwise another partner_code is PERMISSION_DENIED.
  // Returns once the bytes are durable (status RECEIVED); processing goes
  // on in the background. A stream that breaks a rule stores nothing. A
  // stream longer than max_file_bytes is cut there (the rest is not read)
  // and the file is refused TOO_LARGE unless an earlier check refuses it.
  // `cancelled`, when given, is asked once the stream has ended: true (the
  // client went away rather than finishing) stores nothing, as a stream cut
  // short must not be taken for a whole file.
  absl::StatusOr<v1::UploadAccrualFileResponse> UploadAccrualFile(
      const ReadUploadMessage& read, absl::string_view authenticated_partner,
      const std::function<bool()>& cancelled = nullptr);

  // A file that has stopped changing in `file.partner_code`'s inbox (not an
  // .ack.csv): received like an upload with its name. Idempotent while the
  // file is in the inbox: a file already received is not received again;
  // one already acknowledged (a crash came before the move) is moved to
  // processed/ now.
  absl::Status ReceiveInboxFile(const InboxFile& file);

  // The queries answer with what is durable. They do not know who asks: a
  // partner-authenticated caller is checked by the service layer against
  // the partner_code of the request or of the file returned.
  absl::StatusOr<v1::GetAccrualFileResponse> GetAccrualFile(
      const v1::GetAccrualFileRequest& request);
  // Newest receipt first; filters by partner and statuses.
  absl::StatusOr<v1::ListAccrualFilesResponse> ListAccrualFiles(
      const v1::ListAccrualFilesRequest& request);
  // The acknowledgement of an ACCEPTED or REFUSED file, parsed
  // (FAILED_PRECONDITION while RECEIVED or PROCESSING). An accepted file's
  // R lines are read from its outbox file and paged; a refusal is answered
  // from the file's record, as a later refusal under the same seq writes
  // an acknowledgement of the same name.
  absl::StatusOr<v1::GetAcknowledgementResponse> GetAcknowledgement(
      const v1::GetAcknowledgementRequest& request);

  // Starts the background workers: interrupted (PROCESSING) files first,
  // then the RECEIVED ones, then files as they arrive. Once.
  void Start();
  // Stops the workers, each after the batch in hand. Idempotent.
  void Stop();
  // For tests and tools: processes everything pending on the caller's
  // thread, then returns. A file that cannot go on (accrual or membership
  // unavailable) is left where it is and the first such status returned,
  // after the other partners' files were processed.
  absl::Status ProcessPending();

 private:
  struct Metrics;
  class FileRun;
  struct QueueEntry {
    absl::Time not_before;
    bool resume = false;  // its next file is PROCESSING: goes first
    uint64_t order = 0;
  };

  // Receipt.
  absl::Status CheckSender(const v1::UploadMetadata& metadata,
                           absl::string_view authenticated_partner);
  absl::StatusOr<files::StoredAccrualFile> Record(
      files::StoredAccrualFile stored, const std::string& inbox_key);
  void Received(const files::StoredAccrualFile& stored, absl::string_view via);
  // Moves an acknowledged inbox original into processed/ and forgets it;
  // the Locked form with the file's inbox lock held.
  absl::Status FinishInbox(const files::StoredAccrualFile& stored);
  absl::Status FinishInboxLocked(const files::StoredAccrualFile& stored);

  // Processing.
  absl::Status ProcessPartner(const std::string& partner, bool background);
  absl::Status ProcessFile(const std::string& file_id, bool background);
  absl::Status CheckWholeFile(files::StoredAccrualFile& stored);
  absl::Status Refuse(files::StoredAccrualFile& stored, const FileCheck& check,
                      absl::Time now);
  absl::Status AcceptIdentical(files::StoredAccrualFile& stored,
                               const FileCheck& check, absl::Time now);
  absl::Status BeginProcessing(files::StoredAccrualFile& stored,
                               const FileCheck& check, absl::Time now);
  // After a file became final: the inbox original, the work copies.
  void Cleanup(const files::StoredAccrualFile& stored);
  void CleanWorkDir();
  absl::StatusOr<absl::optional<files::AcceptedSeq>> AcceptedUnder(
      absl::string_view partner, int64_t seq) const;
  void CountCommittedBatch();

  // Scheduling.
  void Notify(const std::string& partner);
  void WorkerLoop();
  // Waits until no worker processes `partner`, then marks it taken.
  void Claim(const std::string& partner);
  void Release(const std::string& partner, const absl::Status& outcome);
  bool stopping() const;
  // Sleeps for `wait` unless stopping; false when stopping.
  bool WaitUnlessStopping(absl::Duration wait);
  // Partners with pending files, those whose next file is PROCESSING first.
  absl::StatusOr<std::vector<std::string>> PendingPartners();

  std::string WorkCopyPath(absl::string_view file_id) const;
  std::string PartialAckPath(absl::string_view file_id) const;

  store::Store* const store_;
  Partners* const partners_;
  DropFolders* const folders_;
  MembershipGateway* const membership_;
  AccrualGateway* const accrual_;
  const airports::AirportTable* const airports_;
  const AccrualFilesOptions options_;
  const Clock clock_;
  std::unique_ptr<prometheus::Registry> own_registry_;
  std::unique_ptr<Metrics> metrics_;

  // Serialises receipt numbers with the order their batches are enqueued.
  absl::Mutex receipt_mutex_;
  uint64_t last_receipt_ ABSL_GUARDED_BY(receipt_mutex_) = 0;
  // One inbox file (partner and name) at a time.
  store::KeyLocks inbox_locks_;
  std::atomic<int64_t> committed_batches_{0};

  mutable absl::Mutex mutex_;
  absl::CondVar changed_;
  bool started_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t next_order_ ABSL_GUARDED_BY(mutex_) = 0;
  // Partners with files to look at, not being processed.
  std::map<std::string, QueueEntry> queued_ ABSL_GUARDED_BY(mutex_);
  // Partners being processed, by a worker or ProcessPending.
  std::set<std::string> busy_ ABSL_GUARDED_BY(mutex_);
  // Busy partners that received a file meanwhile: look again once free.
  std::set<std::string> rescan_ ABSL_GUARDED_BY(mutex_);
  // The wait before the next try of a partner whose file could not go on.
  absl::flat_hash_map<std::string, absl::Duration> backoff_
      ABSL_GUARDED_BY(mutex_);
  std::vector<std::thread> workers_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILES_H_
