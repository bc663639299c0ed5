#include "libs/store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/time_util.h"
#include "google/protobuf/wire_format_lite.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"
#include "libs/store/keys.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"

namespace mileagebank::store {
namespace {

constexpr absl::string_view kEventsTable = "events";
constexpr absl::string_view kCursorsTable = "cursors";

absl::Status FromRocks(const rocksdb::Status& status,
                       absl::string_view action) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(action, ": ", status.ToString());
  if (status.IsCorruption()) {
    return absl::DataLossError(message);
  }
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view view) {
  return rocksdb::Slice(view.data(), view.size());
}

absl::string_view ToView(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

std::string EventKey(uint64_t sequence) {
  return KeyBuilder().Uint64(sequence).Build();
}

namespace fs = std::filesystem;

// The file RocksDB found damaged. Table and MANIFEST errors name it; a
// damaged write-ahead log record is reported without its file, which only
// RocksDB's own log (LOG in the store folder) names, on the line that
// reports the corruption.
std::string DamagedFile(const std::string& path,
                        const rocksdb::Status& status) {
  const std::string folder = path + "/";
  const std::string message = status.ToString();
  auto file_in = [&](const std::string& text) -> std::string {
    size_t start = text.find(folder);
    if (start == std::string::npos) return "";
    size_t end = text.find_first_of(": \t", start);
    return text.substr(start, end == std::string::npos ? end : end - start);
  };
  std::string file = file_in(message);
  if (!file.empty()) return file;
  std::ifstream log(folder + "LOG");
  for (std::string line; std::getline(log, line);) {
    if (line.find("Corruption") == std::string::npos) continue;
    std::string named = file_in(line);
    if (!named.empty()) file = named;
  }
  if (!file.empty()) return file;
  std::vector<std::string> logs;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(path, ignored)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path());
  }
  return logs.empty() ? "" : absl::StrCat("one of ", absl::StrJoin(logs, ", "));
}

// DATA_LOSS for a store RocksDB found damaged: which file, that the store
// cannot be trusted, and what the operator does about it.
absl::Status CorruptStore(const std::string& path,
                          const rocksdb::Status& status) {
  const std::string file = DamagedFile(path, status);
  return absl::DataLossError(absl::StrCat(
      "store ", path, " is corrupt", file.empty() ? "" : ": damaged file ",
      file, " (", status.ToString(),
      "). Refusing to serve from it: restore the store from a backup into a "
      "new data folder (mbctl backup restore --from=BACKUP --to=NEW_DATA_DIR) "
      "and start the service there; see docs/operations.md, \"Corrupt "
      "stores\""));
}

// Options for every open of a store, its copies included.
// StoreOptions::rewritten_tables' memtables (RocksDB's default: 64 MiB).
constexpr size_t kRewrittenTableMemtableBytes = 4 << 20;

rocksdb::Options DatabaseOptions() {
  rocksdb::Options db_options;
  db_options.paranoid_checks = true;
  // A record that fails its checksum inside the write-ahead log is damage,
  // not a crash: refuse to open, where the default (kPointInTimeRecovery)
  // would silently stop there and lose every acknowledged write after it.
  // A last record cut short by a crash is still dropped: Commit
  // acknowledges a batch only once it is fsynced whole.
  db_options.wal_recovery_mode =
      rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  return db_options;
}

// The sequence of the newest event in `events` (0 when there is none).
absl::StatusOr<uint64_t> LastEventSequence(rocksdb::DB* db,
                                           rocksdb::ColumnFamilyHandle* events,
                                           const std::string& path) {
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), events));
  it->SeekToLast();
  uint64_t last = 0;
  if (it->Valid()) {
    KeyReader reader(ToView(it->key()));
    if (!reader.Uint64(&last) || !reader.done()) {
      return absl::DataLossError(
          absl::StrCat("store ", path, ": malformed event log key"));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading event log");
  return last;
}

absl::Status SyncFile(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) return fileio::ErrnoError("open", file);
  int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return fileio::ErrnoError("fsync", file);
  return absl::OkStatus();
}

// Copies the files of folder `from` into `to` (created), each fsynced, and
// `to` itself.
absl::Status CopyFolder(const std::string& from, const std::string& to) {
  std::error_code error;
  fs::create_directories(to, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", to, ": ", error.message()));
  }
  for (const auto& entry : fs::directory_iterator(from, error)) {
    if (!entry.is_regular_file()) continue;
    const std::string target = to + "/" + entry.path().filename().string();
    fs::copy_file(entry.path(), target, error);
    if (error) {
      return absl::InternalError(absl::StrCat("copying ", entry.path().string(),
                                              ": ", error.message()));
    }
    absl::Status synced = SyncFile(target);
    if (!synced.ok()) return synced;
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("reading ", from, ": ", error.message()));
  }
  return fileio::SyncFolder(to);
}

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// The encoded size of a length-delimited field of `size` bytes (fields
// numbered below 16, whose tag is one byte).
size_t FieldSize(size_t size) {
  return 1 +
         google::protobuf::io::CodedOutputStream::VarintSize32(
             static_cast<uint32_t>(size)) +
         size;
}

// Appends the tag and length of a length-delimited field.
void AppendFieldHead(int number, size_t size, std::string& out) {
  using google::protobuf::internal::WireFormatLite;
  uint8_t head[1 + 5];
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteTagToArray(
      WireFormatLite::MakeTag(number,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED),
      head);
  end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), end);
  out.append(reinterpret_cast<const char*>(head), end - head);
}

// An Event's sequence and, unless null, recorded_at, encoded: what goes in
// front of the rest of its fields (WriteBatch::EncodedEvent), with room
// for `rest` more bytes.
std::string EventHead(uint64_t sequence,
                      const google::protobuf::Timestamp* recorded_at,
                      size_t rest) {
  using google::protobuf::internal::WireFormatLite;
  std::string head;
  const size_t time_size = recorded_at ? recorded_at->ByteSizeLong() : 0;
  head.reserve(1 + 10 + (recorded_at ? FieldSize(time_size) : 0) + rest);
  uint8_t number[1 + 10];
  const uint8_t* end = WireFormatLite::WriteUInt64ToArray(
      common::v1::Event::kSequenceFieldNumber, sequence, number);
  head.append(reinterpret_cast<const char*>(number), end - number);
  if (recorded_at != nullptr) {
    AppendFieldHead(common::v1::Event::kRecordedAtFieldNumber, time_size, head);
    recorded_at->AppendToString(&head);
  }
  return head;
}

// One batch of `batches`' records, in order. Joined by their bytes, not
// walked and copied record by record: a batch is a 12-byte header (a
// sequence number RocksDB sets when writing, then the record count, both
// little-endian) followed by its records (RocksDB's documented layout,
// that of its write-ahead log).
rocksdb::WriteBatch Joined(std::vector<rocksdb::WriteBatch>& batches) {
  if (batches.size() == 1) return std::move(batches.front());
  constexpr size_t kHeaderBytes = 12;
  size_t bytes = kHeaderBytes;
  for (const rocksdb::WriteBatch& batch : batches) {
    bytes += batch.GetDataSize() - kHeaderBytes;
  }
  std::string records(kHeaderBytes, '\0');
  records.reserve(bytes);
  uint32_t count = 0;
  for (const rocksdb::WriteBatch& batch : batches) {
    records.append(batch.Data(), kHeaderBytes);
    count += batch.Count();
  }
  for (int i = 0; i < 4; ++i) {
    records[8 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  }
  return rocksdb::WriteBatch(std::move(records));
}

}  // namespace

ScanRange PrefixRange(absl::string_view prefix) {
  return ScanRange{std::string(prefix), PrefixEnd(prefix)};
}

rocksdb::ColumnFamilyHandle* WriteBatch::TableOf(absl::string_view name) {
  if (last_table_ == nullptr || last_table_name_ != name) {
    last_table_ = store_->Table(name);
    last_table_name_.assign(name.data(), name.size());
  }
  return last_table_;
}

void WriteBatch::Put(absl::string_view table, absl::string_view key,
                     absl::string_view value) {
  writes_.push_back({TableOf(table), std::string(key), std::string(value)});
}

void WriteBatch::PutProto(absl::string_view table, absl::string_view key,
                          const google::protobuf::Message& value) {
  writes_.push_back(
      {TableOf(table), std::string(key), value.SerializeAsString()});
}

void WriteBatch::Delete(absl::string_view table, absl::string_view key) {
  writes_.push_back({TableOf(table), std::string(key), std::nullopt});
}

// rocksdb::WriteBatch fails a write only past a size limit, which this one
// does not set.
void WriteBatch::PutUnread(absl::string_view table, absl::string_view key,
                           absl::string_view value) {
  unread_
      .Put(TableOf(table), rocksdb::Slice(key.data(), key.size()),
           rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();
}

void WriteBatch::DeleteUnread(absl::string_view table, absl::string_view key) {
  unread_.Delete(TableOf(table), rocksdb::Slice(key.data(), key.size()))
      .PermitUncheckedError();
}

void WriteBatch::AppendEvent(absl::string_view key,
                             const google::protobuf::Message& payload) {
  // Event's key and payload, the payload an Any, encoded as those messages
  // encode them (fields in number order, empty ones left out).
  const std::string& type = payload.GetDescriptor()->full_name();
  const size_t url_size = kTypeUrlPrefix.size() + type.size();
  const size_t value_size = payload.ByteSizeLong();
  const size_t any_size =
      FieldSize(url_size) + (value_size > 0 ? FieldSize(value_size) : 0);
  std::string& fields = events_.emplace_back().fields;
  fields.reserve((key.empty() ? 0 : FieldSize(key.size())) +
                 FieldSize(any_size));
  if (!key.empty()) {
    AppendFieldHead(common::v1::Event::kKeyFieldNumber, key.size(), fields);
    fields.append(key.data(), key.size());
  }
  AppendFieldHead(common::v1::Event::kPayloadFieldNumber, any_size, fields);
  AppendFieldHead(google::protobuf::Any::kTypeUrlFieldNumber, url_size, fields);
  fields.append(kTypeUrlPrefix.data(), kTypeUrlPrefix.size());
  fields.append(type);
  if (value_size > 0) {
    AppendFieldHead(google::protobuf::Any::kValueFieldNumber, value_size,
                    fields);
    const size_t at = fields.size();
    fields.resize(at + value_size);
    payload.SerializeWithCachedSizesToArray(
        reinterpret_cast<uint8_t*>(&fields[at]));
  }
}

void WriteBatch::AppendRecordedEvent(common::v1::Event event) {
  event.clear_sequence();
  EncodedEvent& encoded = events_.emplace_back();
  encoded.recorded = event.has_recorded_at();
  encoded.fields = event.SerializeAsString();
}

void WriteBatch::SetCursor(absl::string_view source, uint64_t sequence) {
  Put(kCursorsTable, source, KeyBuilder().Uint64(sequence).Build());
}

void WriteBatch::OnEnqueued(std::function<void(uint64_t ticket)> hook) {
  on_enqueued_.push_back(std::move(hook));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const StoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("store path: must not be empty");
  }
  std::error_code created;
  std::filesystem::create_directories(options.path, created);
  if (created) {
    return absl::UnavailableError(absl::StrCat(
        "store ", options.path, ": cannot create folder: ", created.message()));
  }
  rocksdb::Options db_options = DatabaseOptions();
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Idempotency checks look up keys that mostly do not exist yet: a Bloom
  // filter answers those from memory instead of reading every level.
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_options.cache_index_and_filter_blocks = true;
  table_options.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions table_defaults;
  table_defaults.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    std::string(kEventsTable),
                                    std::string(kCursorsTable)};
  for (const std::string& table : options.tables) {
    for (const std::string& existing : names) {
      if (existing == table) {
        return absl::InvalidArgumentError(
            absl::StrCat("store table \"", table, "\": named twice or reserved"));
      }
    }
    names.push_back(table);
  }
  auto named = [](const std::vector<std::string>& tables,
                  const std::string& name) {
    return std::find(tables.begin(), tables.end(), name) != tables.end();
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions table = table_defaults;
    if (named(options.rewritten_tables, name)) {
      table.write_buffer_size = kRewrittenTableMemtableBytes;
    }
    if (named(options.memtable_bloom_tables, name)) {
      table.memtable_whole_key_filtering = true;
      table.memtable_prefix_bloom_size_ratio = 0.05;
    }
    descriptors.emplace_back(name, table);
  }

  auto store = std::unique_ptr<Store>(new Store());
  store->path_ = options.path;
  rocksdb::DB* db = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(db_options, options.path,
                                             descriptors, &store->handles_, &db);
  if (opened.IsCorruption()) return CorruptStore(options.path, opened);
  if (!opened.ok()) {
    return FromRocks(opened, absl::StrCat("opening store ", options.path));
  }
  store->db_.reset(db);
  for (size_t i = 0; i < names.size(); ++i) {
    store->tables_[names[i]] = store->handles_[i];
  }
  if (options.verify_at_open) {
    rocksdb::Status verified = db->VerifyChecksum();
    if (verified.IsCorruption()) return CorruptStore(options.path, verified);
    if (!verified.ok()) return FromRocks(verified, "verifying store");
  }

  // The log's last key gives the next sequence number.
  absl::StatusOr<uint64_t> last =
      LastEventSequence(db, store->Table(kEventsTable), options.path);
  if (!last.ok()) return last.status();
  {
    absl::MutexLock lock(&store->mutex_);
    store->last_sequence_ = *last;
    store->durable_sequence_ = *last;
  }
  store->writer_ = std::thread([raw = store.get()] { raw->WriteLoop(); });
  return store;
}

Store::~Store() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    closing_ = true;
    queued_.Signal();
    durable_.SignalAll();
  }
  if (writer_.joinable()) writer_.join();  // Drains the line first.
  if (db_ == nullptr) return;
  db_->FlushWAL(/*sync=*/true);
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle);
  }
  db_->Close();
}

rocksdb::ColumnFamilyHandle* Store::Table(absl::string_view name) const {
  auto it = tables_.find(name);
  // An unknown table is a programming error in the service, found by its
  // first test, never by a request.
  if (it == tables_.end()) {
    std::fprintf(stderr, "store: unknown table \"%s\"\n",
                 std::string(name).c_str());
    std::abort();
  }
  return it->second;
}

std::string Store::PendingKey(const rocksdb::ColumnFamilyHandle* table,
                              absl::string_view key) {
  return absl::StrCat(table->GetID(), ":", key);
}

uint64_t Store::Enqueue(WriteBatch& batch) {
  const google::protobuf::Timestamp now =
      google::protobuf::util::TimeUtil::GetCurrentTime();
  Queued queued;
  queued.writes = std::move(batch.writes_);
  queued.unread = std::move(batch.unread_);
  queued.events = std::move(batch.events_);
  queued.queued_at = now;
  std::vector<std::function<void(uint64_t)>> hooks =
      std::move(batch.on_enqueued_);
  batch.writes_.clear();
  batch.unread_.Clear();
  batch.events_.clear();
  batch.on_enqueued_.clear();
  uint64_t ticket;
  {
    // The overlay lock is taken before the line's and held across it, so a
    // key's pending value and its place in line agree.
    absl::MutexLock pending_lock(&pending_mutex_);
    absl::MutexLock lock(&mutex_);
    queued.ticket = ++last_ticket_;
    queued.first_sequence = last_sequence_ + 1;
    last_sequence_ += queued.events.size();
    ticket = queued.ticket;
    queue_.push_back(std::move(queued));
    for (const WriteBatch::Write& write : queue_.back().writes) {
      pending_[PendingKey(write.table, write.key)] =
          Pending{&write.value, ticket};
    }
    queued_.Signal();
  }
  for (const auto& hook : hooks) hook(ticket);
  return ticket;
}

void Store::Wait(uint64_t ticket) {
  absl::MutexLock lock(&mutex_);
  while (durable_ticket_ < ticket) durable_.Wait(&mutex_);
}

void Store::WaitForQueued() {
  absl::MutexLock lock(&mutex_);
  const uint64_t ticket = last_ticket_;
  while (durable_ticket_ < ticket) durable_.Wait(&mutex_);
}

absl::Status Store::Commit(WriteBatch& batch) {
  Wait(Enqueue(batch));
  return absl::OkStatus();
}

void Store::WriteLoop() {
  constexpr size_t kTailEvents = 100'000;
  rocksdb::ColumnFamilyHandle* const events_table = Table(kEventsTable);
  while (true) {
    std::deque<Queued> group;
    {
      absl::MutexLock lock(&mutex_);
      while (queue_.empty() && !closing_) queued_.Wait(&mutex_);
      if (queue_.empty()) return;  // Closing, and the line is drained.
      group.swap(queue_);
    }
    // The group's writes in line order: one RocksDB batch, joined with a
    // batch's unread writes (already encoded) only where there are some.
    std::vector<rocksdb::WriteBatch> batches(1);
    std::vector<std::pair<uint64_t, std::string>> written_events;
    for (Queued& queued : group) {
      if (queued.unread.Count() > 0) {
        if (batches.back().Count() > 0) batches.emplace_back();
        batches.back() = std::move(queued.unread);
        batches.emplace_back();
      }
      rocksdb::WriteBatch& batch = batches.back();
      for (const WriteBatch::Write& write : queued.writes) {
        if (write.value) {
          batch.Put(write.table, write.key, *write.value);
        } else {
          batch.Delete(write.table, write.key);
        }
      }
      for (size_t i = 0; i < queued.events.size(); ++i) {
        const WriteBatch::EncodedEvent& event = queued.events[i];
        const uint64_t sequence = queued.first_sequence + i;
        std::string bytes =
            EventHead(sequence, event.recorded ? nullptr : &queued.queued_at,
                      event.fields.size());
        bytes.append(event.fields);
        batch.Put(events_table, EventKey(sequence), bytes);
        written_events.emplace_back(sequence, std::move(bytes));
      }
    }
    if (batches.size() > 1 && batches.back().Count() == 0) batches.pop_back();
    rocksdb::WriteBatch combined = Joined(batches);
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    rocksdb::Status written = db_->Write(write_options, &combined);
    if (!written.ok()) {
      // Later decisions were made on top of these writes; only a restart
      // from what is on disk is trustworthy now.
      log::Error("store_write_failed",
                 {{"path", path_}, {"reason", written.ToString()}});
      std::abort();
    }
    {
      absl::MutexLock lock(&pending_mutex_);
      for (const Queued& queued : group) {
        for (const WriteBatch::Write& write : queued.writes) {
          auto it = pending_.find(PendingKey(write.table, write.key));
          if (it != pending_.end() && it->second.ticket == queued.ticket) {
            pending_.erase(it);
          }
        }
      }
    }
    absl::MutexLock lock(&mutex_);
    for (auto& event : written_events) {
      durable_sequence_ = event.first;
      tail_.push_back(std::move(event));
    }
    while (tail_.size() > kTailEvents) tail_.pop_front();
    durable_ticket_ = group.back().ticket;
    durable_.SignalAll();
  }
}

absl::StatusOr<std::optional<std::string>> Store::Get(
    absl::string_view table, absl::string_view key) const {
  return GetAt(nullptr, table, key);
}

absl::StatusOr<std::optional<std::string>> Store::GetAt(
    const rocksdb::Snapshot* snapshot, absl::string_view table,
    absl::string_view key) const {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string value;
  rocksdb::Status status =
      db_->Get(read_options, Table(table), ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading");
  return value;
}

absl::StatusOr<std::optional<std::string>> Store::GetLatest(
    absl::string_view table, absl::string_view key, uint64_t* ticket) const {
  {
    absl::MutexLock lock(&pending_mutex_);
    auto it = pending_.find(PendingKey(Table(table), key));
    if (it != pending_.end()) {
      if (ticket != nullptr) *ticket = it->second.ticket;
      return *it->second.value;
    }
  }
  // Not in line: the writer removes a key from the line only after writing
  // it, so the database has its newest value.
  if (ticket != nullptr) *ticket = 0;
  return Get(table, key);
}

namespace {

absl::StatusOr<bool> ParseInto(
    absl::StatusOr<std::optional<std::string>> raw, absl::string_view table,
    google::protobuf::Message* value) {
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return false;
  if (!value->ParseFromString(**raw)) {
    return absl::DataLossError(absl::StrCat("store table ", table,
                                            ": unreadable ",
                                            value->GetTypeName()));
  }
  return true;
}

}  // namespace

absl::StatusOr<bool> Store::GetProto(absl::string_view table,
                                     absl::string_view key,
                                     google::protobuf::Message* value) const {
  return ParseInto(Get(table, key), table, value);
}

absl::StatusOr<bool> Store::GetLatestProto(absl::string_view table,
                                           absl::string_view key,
                                           google::protobuf::Message* value,
                                           uint64_t* ticket) const {
  return ParseInto(GetLatest(table, key, ticket), table, value);
}

absl::Status Store::Scan(
    absl::string_view table, const ScanRange& range,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  return ScanAt(nullptr, table, range, visit);
}

absl::Status Store::ScanChecked(absl::string_view table, const ScanRange& range,
                                const CheckedVisit& visit) const {
  absl::Status failed;
  absl::Status scanned =
      Scan(table, range, [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<bool> more = visit(key, value);
        if (!more.ok()) failed = more.status();
        return more.ok() && *more;
      });
  return scanned.ok() ? failed : scanned;
}

absl::Status Store::ScanAt(
    const rocksdb::Snapshot* snapshot, absl::string_view table,
    const ScanRange& range,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  rocksdb::Slice lower = ToSlice(range.start);
  rocksdb::Slice upper = ToSlice(range.end);
  read_options.iterate_lower_bound = &lower;
  if (!range.end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read_options, Table(table)));
  if (range.reverse) {
    if (range.end.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(upper);
      if (it->Valid() && it->key() == upper) it->Prev();
    }
    for (; it->Valid(); it->Prev()) {
      if (!visit(ToView(it->key()), ToView(it->value()))) break;
    }
  } else {
    for (it->Seek(lower); it->Valid(); it->Next()) {
      if (!visit(ToView(it->key()), ToView(it->value()))) break;
    }
  }
  return FromRocks(it->status(), "scanning");
}

absl::StatusOr<std::vector<common::v1::Event>> Store::ReadEvents(
    uint64_t after_sequence, size_t max) const {
  std::vector<common::v1::Event> events;
  absl::Status parse_error;
  absl::Status visited =
      VisitEvents(after_sequence, max, [&](uint64_t, absl::string_view bytes) {
        if (!events.emplace_back().ParseFromArray(bytes.data(), bytes.size())) {
          parse_error = absl::DataLossError("event log: unreadable event");
          return false;
        }
        return true;
      });
  if (!visited.ok()) return visited;
  if (!parse_error.ok()) return parse_error;
  return events;
}

absl::Status Store::VisitEvents(uint64_t after_sequence, size_t max,
                                const EventVisit& visit) const {
  uint64_t visible;
  std::vector<std::pair<uint64_t, std::string>> from_tail;
  {
    absl::MutexLock lock(&mutex_);
    visible = durable_sequence_;
    if (after_sequence >= visible || max == 0) return absl::OkStatus();
    // Served from memory when the tail reaches back far enough (copied, so
    // that `visit` runs without the lock).
    if (!tail_.empty() && tail_.front().first <= after_sequence + 1) {
      const size_t first = after_sequence + 1 - tail_.front().first;
      const size_t end = std::min(tail_.size(), first + max);
      from_tail.assign(tail_.begin() + first, tail_.begin() + end);
    }
  }
  if (!from_tail.empty()) {
    for (const auto& [sequence, bytes] : from_tail) {
      if (!visit(sequence, bytes)) break;
    }
    return absl::OkStatus();
  }
  ScanRange range{EventKey(after_sequence + 1), EventKey(visible + 1)};
  size_t visited = 0;
  absl::Status bad_key;
  absl::Status scanned = Scan(
      kEventsTable, range, [&](absl::string_view key, absl::string_view value) {
        KeyReader reader(key);
        uint64_t sequence;
        if (!reader.Uint64(&sequence) || !reader.done()) {
          bad_key = absl::DataLossError("event log: malformed event key");
          return false;
        }
        return visit(sequence, value) && ++visited < max;
      });
  if (!scanned.ok()) return scanned;
  return bad_key;
}

uint64_t Store::LastSequence() const {
  absl::MutexLock lock(&mutex_);
  return durable_sequence_;
}

bool Store::WaitForEvents(uint64_t after_sequence,
                          absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mutex_);
  while (durable_sequence_ <= after_sequence && !stopping_) {
    if (durable_.WaitWithDeadline(&mutex_, deadline)) break;
  }
  return durable_sequence_ > after_sequence;
}

void Store::StopWaiters() {
  absl::MutexLock lock(&mutex_);
  stopping_ = true;
  durable_.SignalAll();
}

bool Store::stopping() const {
  absl::MutexLock lock(&mutex_);
  return stopping_;
}

absl::StatusOr<uint64_t> Store::ReadCursor(absl::string_view source) const {
  return ReadCursorAt(nullptr, source);
}

absl::StatusOr<uint64_t> Store::ReadCursorAt(const rocksdb::Snapshot* snapshot,
                                             absl::string_view source) const {
  absl::StatusOr<std::optional<std::string>> raw =
      GetAt(snapshot, kCursorsTable, source);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return 0;
  KeyReader reader(**raw);
  uint64_t sequence = 0;
  if (!reader.Uint64(&sequence) || !reader.done()) {
    return absl::DataLossError(
        absl::StrCat("store cursor ", source, ": malformed"));
  }
  return sequence;
}

std::unique_ptr<Snapshot> Store::NewSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(this, db_->GetSnapshot()));
}

Snapshot::~Snapshot() { store_->db_->ReleaseSnapshot(snapshot_); }

absl::StatusOr<std::optional<std::string>> Snapshot::Get(
    absl::string_view table, absl::string_view key) const {
  return store_->GetAt(snapshot_, table, key);
}

absl::Status Snapshot::Scan(
    absl::string_view table, const ScanRange& range,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  return store_->ScanAt(snapshot_, table, range, visit);
}

absl::StatusOr<uint64_t> Snapshot::ReadCursor(absl::string_view source) const {
  return store_->ReadCursorAt(snapshot_, source);
}

absl::Status Store::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  absl::Status created =
      FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint");
  if (!created.ok()) return created;
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir),
                   absl::StrCat("checkpoint into ", dir));
}

absl::StatusOr<CopyInfo> Store::Backup(const std::string& dir) {
  absl::Status made = Checkpoint(dir);
  if (!made.ok()) return made;
  // The checkpoint shares the live table files' inodes; replace each link
  // with a copy of its own, and make every file durable.
  std::error_code error;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file(error)) files.push_back(entry.path().string());
  }
  if (error) {
    return absl::InternalError(
        absl::StrCat("reading ", dir, ": ", error.message()));
  }
  for (const std::string& file : files) {
    if (fs::hard_link_count(file, error) > 1 && !error) {
      const std::string copy = file + ".copy";
      fs::copy_file(file, copy, error);
      if (!error) fs::rename(copy, file, error);
    }
    if (error) {
      return absl::InternalError(
          absl::StrCat("copying ", file, ": ", error.message()));
    }
    absl::Status synced = SyncFile(file);
    if (!synced.ok()) return synced;
  }
  absl::Status synced = fileio::SyncFolder(dir);
  if (!synced.ok()) return synced;
  return CheckCopy(dir);
}

absl::StatusOr<CopyInfo> CheckCopy(const std::string& dir) {
  // RocksDB's own log would be written into the copy: checking leaves it as
  // it was.
  class Discard : public rocksdb::Logger {
    using rocksdb::Logger::Logv;
    void Logv(const char*, va_list) override {}
  };
  rocksdb::Options options = DatabaseOptions();
  options.info_log = std::make_shared<Discard>();
  std::vector<std::string> names;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (listed.IsCorruption()) return CorruptStore(dir, listed);
  if (!listed.ok()) {
    return FromRocks(listed, absl::StrCat("reading store copy ", dir));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  size_t events = names.size();
  for (size_t i = 0; i < names.size(); ++i) {
    descriptors.emplace_back(names[i], rocksdb::ColumnFamilyOptions());
    if (names[i] == kEventsTable) events = i;
  }
  if (events == names.size()) {
    return absl::DataLossError(
        absl::StrCat("store copy ", dir, ": has no event log"));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened =
      rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &raw);
  if (opened.IsCorruption()) return CorruptStore(dir, opened);
  if (!opened.ok()) {
    return FromRocks(opened, absl::StrCat("opening store copy ", dir));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  absl::StatusOr<CopyInfo> info = CopyInfo();
  rocksdb::Status verified = db->VerifyChecksum();
  if (verified.IsCorruption()) {
    info = CorruptStore(dir, verified);
  } else if (!verified.ok()) {
    info = FromRocks(verified, "verifying store copy");
  } else {
    absl::StatusOr<uint64_t> last =
        LastEventSequence(db.get(), handles[events], dir);
    if (last.ok()) {
      info->sequence = *last;
    } else {
      info = last.status();
    }
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    db->DestroyColumnFamilyHandle(handle);
  }
  if (!info.ok()) return info;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file()) {
      info->size_bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  return info;
}

absl::StatusOr<CopyInfo> RestoreCopy(const std::string& backup,
                                     const std::string& path) {
  std::error_code error;
  if (fs::exists(path, error) && !fs::is_empty(path, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store ", path, ": not empty; restore into a new data folder"));
  }
  absl::StatusOr<CopyInfo> checked = CheckCopy(backup);
  if (!checked.ok()) return checked;
  const std::string partial = path + ".restoring";
  fs::remove_all(partial, error);
  absl::Status copied = CopyFolder(backup, partial);
  if (!copied.ok()) return copied;
  fs::remove(path, error);  // An empty folder: the rename replaces it.
  fs::rename(partial, path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("renaming ", partial, " to ", path,
                                            ": ", error.message()));
  }
  absl::Status synced =
      fileio::SyncFolder(fs::absolute(path).parent_path().string());
  if (!synced.ok()) return synced;
  return checked;
}

}  // namespace mileagebank::store
