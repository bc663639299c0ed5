// Outbound: the outbound accrual exchange of the settlement service
// (partner-files.md section 4): own flights flown by members of partner
// airline programmes are recorded, sent to each programme once a day in an
// outbound file, and matched with the programme's acknowledgement, which
// sets each record's status and miles and reports the miles credited to the
// statements' PURCHASE line.
//
//   Outbound outbound(store, &partners, &folders, &ledger, "FM",
//                     &airports::AirportTable::Builtin());
//   outbound.SubmitOutboundFlights(flown);           // from the feed
//   outbound.GenerateOutboundFiles(today);           // the daily job
//   outbound.ReceiveInboxAcknowledgement(inbox_file);  // FM_CA_000042.ack.csv
//
// A record's life: OUTBOUND_PENDING -> OUTBOUND_SENT (in a file) ->
// OUTBOUND_ACCEPTED (final, never sent again) or OUTBOUND_REJECTED ->
// (corrected by staff) OUTBOUND_PENDING -> ... A whole-file refusal (E line)
// rejects every record of the file, with the file's refusal code as reason;
// the record keeps the refused file's file_id and seq until it is sent again.
//
// A whole-file refusal (partner-files.md section 1: "a refused file does not
// use up its sequence number"). Recording the partner's E acknowledgement of
// file (P, S), in one batch:
//   - the file (its StoredFile, status ACKNOWLEDGED, records_rejected = its
//     records, with the refusal's digest and processed time) and its
//     outbound_file_records rows move from the live keys to
//     outbound_refused_files / outbound_refused_file_records, so that the
//     seq's next file starts clean;
//   - when P's last_outbound_file_seq is S it goes back to S - 1, and further
//     down past seqs whose files were refused too and not sent again (their
//     refusal was recorded while S was out: the partner refused S as a
//     SEQUENCE_GAP). The next generation then writes seq S again, under the
//     same name <HOST>_<PARTNER>_<SEQ>.out.csv, replacing the refused file
//     in the outbox (and its kOutboxTable description). When it is not S (a
//     file S + 1 was sent before S's refusal arrived) it stays: S + 1 cannot
//     be accepted by the partner, and it is the refusal of S + 1 that rewinds
//     the sequence, past S, to S - 1.
// An acknowledgement of seq S is then matched in this order:
//   1. identical (same content and processed time) to a recorded refusal of
//      a file of S: a repeat, nothing changes (a late duplicate never touches
//      the file that replaced the refused one);
//   2. the live file of S, if any, as any acknowledgement (recorded, a
//      repeat, or refused as ACK_COUNT_MISMATCH / ACK_CONFLICT);
//   3. no live file of S but a refused one: the same content written again
//      later is a repeat; anything else is ACK_CONFLICT.
//
// Tables (libs/store/keys.h encodings; Tables() lists them):
//   outbound_records       String(record_id) -> StoredRecord
//   outbound_tickets       String(ticket) Int64(coupon) -> record_id
//   outbound_by_time       Int64(created µs) String(record_id) -> ""
//   outbound_by_partner    String(partner) Int64(created µs)
//                          String(record_id) -> ""
//   outbound_pending       String(partner) Int64(created µs)
//                          String(record_id) -> ""  (OUTBOUND_PENDING only;
//                          its order is a file's record order)
//   outbound_files         String(partner) Int64(seq) -> StoredFile (the
//                          live file of the seq: sent, or acknowledged
//                          with records; never a refused one)
//   outbound_file_records  String(partner) Int64(seq) Int64(record_number)
//                          -> record_id (the live file's)
//   outbound_refused_files String(partner) Int64(seq) Int64(refused µs)
//                          String(file_id) -> StoredFile (files the partner
//                          refused as a whole, kept for good)
//   outbound_refused_file_records
//                          String(partner) Int64(seq) Int64(refused µs)
//                          String(file_id) Int64(record_number) -> record_id
//   outbound_dates         Day(file_date) String(partner) -> FileRef (that
//                          partner's file of the date, with the file)
//   outbound_generations   Day(file_date) -> Generation (the date finished;
//                          its FileRefs name files by file_id, refused
//                          ones included)
// (messages of services/settlement/outbound_records.proto). It also writes
// the partner's last_outbound_file_seq (through Partners) and outbox files
// (through DropFolders), in its own batches.
//
// Locking: every change to a partner's outbound records and files is made
// under that partner's lock here (submission adds the ticket + coupon's),
// so a generation sees a stable set of pending records and an
// acknowledgement is recorded once. The partner's own lock (Partners::Lock)
// is taken after it, only to advance the sequence (generation) or rewind it
// (a whole-file refusal), and held until that batch is in line.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/airports/airports.h"
#include "libs/status/errors.h"
#include "libs/store/key_locks.h"
#include "libs/store/store.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/outbound_file.h"
#include "services/settlement/outbound_records.pb.h"
#include "services/settlement/partners.h"
#include "services/settlement/purchases.h"

namespace mileagebank::settlement {

class Outbound {
 public:
  using Clock = std::function<absl::Time()>;
  // Fills the next message of an upload stream; false at its end.
  using ReadUploadMessage =
      std::function<bool(v1::UploadOutboundAcknowledgementRequest*)>;

  // Everything passed in outlives the Outbound; `store` was opened with
  // Tables() (and the tables of Partners and DropFolders).
  Outbound(store::Store* store, Partners* partners, DropFolders* folders,
           PurchaseLedger* purchases, std::string host_carrier,
           const airports::AirportTable* airports, Clock clock = absl::Now);

  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // The store tables it owns (not those of Partners and DropFolders).
  static std::vector<std::string> Tables();

  // Records each flight on its own, keyed by ticket + coupon; one result per
  // flight in request order.
  absl::StatusOr<v1::SubmitOutboundFlightsResponse> SubmitOutboundFlights(
      const v1::SubmitOutboundFlightsRequest& request);
  // One file per ACTIVE airline partner with pending records, once per
  // date, under seq last_outbound_file_seq + 1. Each file is written to the
  // outbox before the batch that records it; a crash between the two leaves
  // a file that the retry writes again under the same name, seq and created
  // time. A seq given back by a refusal is used again: its file replaces the
  // refused one of that name in the outbox (the refused file, recognised by
  // its created time, is not taken for a leftover). Asked again for a date,
  // it answers the date's files as they are now (a refused one included).
  absl::StatusOr<v1::GenerateOutboundFilesResponse> GenerateOutboundFiles(
      const v1::GenerateOutboundFilesRequest& request);
  absl::StatusOr<v1::ListOutboundRecordsResponse> ListOutboundRecords(
      const v1::ListOutboundRecordsRequest& request);
  absl::StatusOr<v1::ResendOutboundRecordResponse> ResendOutboundRecord(
      const v1::ResendOutboundRecordRequest& request);

  // Reads an upload stream (metadata first, then chunks) and matches and
  // records the acknowledgement. The bytes are parsed as they arrive; only
  // the parsed R lines are held. `authenticated_partner` empty means staff
  // or an internal caller; otherwise another partner is PERMISSION_DENIED.
  // A refused acknowledgement is an OK status with accepted = false.
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse>
  UploadOutboundAcknowledgement(const ReadUploadMessage& read,
                                absl::string_view authenticated_partner);

  // The drop-folder path, with the upload's outcome: `file` is a ready
  // *.ack.csv in partner X's inbox, X the sender. Once handled (recorded,
  // repeated or refused, a refusal logged with its reason) the file is moved
  // to processed/. A failure of this process (the store, the file system)
  // leaves it in the inbox for the next look.
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse>
  ReceiveInboxAcknowledgement(const InboxFile& file);

 private:
  absl::CivilDay Today() const;
  // Adds a violation under `at` (e.g. "flights[2]") for each field of
  // `flight` that breaks OutboundFlight's rules.
  void CheckFlight(const v1::OutboundFlight& flight, const std::string& at,
                   FieldErrors& errors) const;
  // The partner of `code` if it is an AIRLINE: NOT_FOUND or
  // FAILED_PRECONDITION naming `field` otherwise.
  absl::StatusOr<v1::Partner> FindAirline(absl::string_view code,
                                          const std::string& field);
  // One flight of a submission, validated already.
  absl::StatusOr<v1::OutboundRecord> SubmitOne(const v1::OutboundFlight& flight,
                                               int index, bool* replayed,
                                               uint64_t* ticket);
  absl::StatusOr<outbound_records::StoredRecord> LatestRecord(
      absl::string_view record_id, uint64_t* ticket = nullptr) const;
  // The partner's refused files of `seq`, in the order refused (durable
  // writes only: the caller waits for what is in line).
  absl::StatusOr<std::vector<outbound_records::StoredFile>> RefusedFiles(
      absl::string_view partner_code, int64_t seq) const;
  // With the partner's records lock and Partners::Lock held, and what is
  // in line durable: stages the rewind of last_outbound_file_seq for the
  // refusal of file `seq` (see "A whole-file refusal" above). The new value,
  // or nullopt when it is not `seq` and stays.
  absl::StatusOr<absl::optional<int64_t>> RewindSequence(
      const std::string& partner_code, int64_t seq, store::WriteBatch& batch);
  // The file a generation of `date` lists under `ref`: the live file of its
  // seq, or the refused file it became. `*ticket` as GetLatest's.
  absl::StatusOr<outbound_records::StoredFile> GeneratedFile(
      absl::CivilDay date, const outbound_records::FileRef& ref,
      uint64_t* ticket);
  // Puts the record and keeps the pending index in step with its status.
  void PutRecord(store::WriteBatch& batch,
                 const outbound_records::StoredRecord& stored,
                 const outbound_records::StoredRecord* before) const;
  // Writes the partner's file of `date` if it should get one (or finds the
  // one an interrupted run wrote); nullopt when it gets none.
  absl::StatusOr<absl::optional<outbound_records::FileRef>> GenerateFor(
      absl::CivilDay date, const std::string& partner_code, absl::Time now);
  // Validates the sender of an acknowledgement, `field` naming it.
  absl::Status CheckSender(absl::string_view partner_code,
                           const std::string& field);
  // Matches a parsed acknowledgement (or its parse failure) with the file
  // sent and records it.
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> Acknowledge(
      const std::string& partner_code, absl::string_view file_name,
      const absl::StatusOr<OutboundAcknowledgement>& parsed);
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> ReadInboxFile(
      const InboxFile& file);

  store::Store* store_;
  Partners* partners_;
  DropFolders* folders_;
  PurchaseLedger* purchases_;
  const std::string host_;
  const airports::AirportTable* airports_;
  const Clock clock_;
  store::KeyLocks locks_;
  // One generation at a time: a date's files are decided together.
  absl::Mutex generate_mutex_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_H_
