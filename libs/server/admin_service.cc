#include "libs/server/admin_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "mileagebank/common/v1/admin.grpc.pb.h"

namespace mileagebank::server {
namespace {

namespace fs = std::filesystem;
using common::v1::BackupRequest;
using common::v1::BackupResponse;

// A <Service>Admin of admin.proto: each is its own generated class.
template <typename Generated>
class Served final : public Generated::Service {
 public:
  using Handler = std::function<grpc::Status(
      const grpc::ServerContext&, const BackupRequest&, BackupResponse*)>;
  explicit Served(Handler handler) : handler_(std::move(handler)) {}

  grpc::Status Backup(grpc::ServerContext* context,
                      const BackupRequest* request,
                      BackupResponse* response) override {
    return handler_(*context, *request, response);
  }

 private:
  Handler handler_;
};

template <typename Generated>
std::unique_ptr<grpc::Service> Serve(
    typename Served<Generated>::Handler handler) {
  return std::make_unique<Served<Generated>>(std::move(handler));
}

// Whether `path` is `folder` or lies inside it (both absolute, normal).
bool Within(const fs::path& path, const fs::path& folder) {
  const fs::path relative = path.lexically_relative(folder);
  return !relative.empty() && *relative.begin() != "..";
}

absl::Status WriteDurably(const std::string& file, absl::string_view bytes) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return fileio::ErrnoError("open", file);
  absl::Status written = fileio::WriteAll(fd, bytes, file);
  if (written.ok() && ::fsync(fd) != 0) {
    written = fileio::ErrnoError("fsync", file);
  }
  ::close(fd);
  return written;
}

}  // namespace

AdminService::AdminService(absl::string_view service, std::string data_dir,
                           store::Store* store, Guard guard)
    : service_(service), data_dir_(std::move(data_dir)), store_(store) {
  const fs::path relative =
      fs::weakly_canonical(store_->path())
          .lexically_relative(fs::weakly_canonical(data_dir_));
  store_path_ = relative.string();
  store_name_ = relative.empty() ? "" : relative.begin()->string();
  if (store_name_.empty() || store_name_ == ".." || store_name_ == ".") {
    std::fprintf(stderr, "admin: store %s is not inside the data folder %s\n",
                 store_->path().c_str(), data_dir_.c_str());
    std::abort();
  }
  auto handler = [this, guard = std::move(guard)](
                     const grpc::ServerContext& context,
                     const BackupRequest& request, BackupResponse* response) {
    auto call = [&] {
      absl::StatusOr<BackupResponse> made = Backup(request);
      if (!made.ok()) return made.status();
      *response = *std::move(made);
      return absl::OkStatus();
    };
    return ToGrpcStatus(guard ? guard(context, call) : call());
  };
  if (service == "membership") {
    grpc_service_ = Serve<common::v1::MembershipAdmin>(handler);
  } else if (service == "accrual") {
    grpc_service_ = Serve<common::v1::AccrualAdmin>(handler);
  } else if (service == "redemption") {
    grpc_service_ = Serve<common::v1::RedemptionAdmin>(handler);
  } else if (service == "settlement") {
    grpc_service_ = Serve<common::v1::SettlementAdmin>(handler);
  } else if (service == "reporting") {
    grpc_service_ = Serve<common::v1::ReportingAdmin>(handler);
  } else if (service == "gateway") {
    grpc_service_ = Serve<common::v1::GatewayAdmin>(handler);
  } else {
    std::fprintf(stderr, "admin: no admin service for \"%s\"\n",
                 service_.c_str());
    std::abort();
  }
}

AdminService::~AdminService() = default;

absl::StatusOr<std::string> AdminService::SetFolder(
    const std::string& destination, absl::Time now) const {
  std::error_code error;
  const fs::path data = fs::weakly_canonical(data_dir_, error);
  fs::path set =
      destination.empty()
          ? fs::path("backups") /
                absl::FormatTime("%Y%m%dT%H%M%E3SZ", now, absl::UTCTimeZone())
          : fs::path(destination);
  if (set.is_relative()) set = data / set;
  set = fs::weakly_canonical(set, error);
  if (set.filename().empty()) set = set.parent_path();  // "backups/x/"
  if (error || !Within(set, data) || set == data) {
    return InvalidField("destination",
                        absl::StrCat("must be a folder inside the data folder ",
                                     data.string()));
  }
  if (Within(set, fs::weakly_canonical(store_->path(), error))) {
    return InvalidField("destination",
                        "must not be inside the store's own folder");
  }
  return set.string();
}

absl::StatusOr<BackupResponse> AdminService::Backup(
    const BackupRequest& request, absl::Time now) {
  absl::StatusOr<std::string> set = SetFolder(request.destination(), now);
  if (!set.ok()) return set.status();
  const std::string folder = absl::StrCat(*set, "/", store_name_);
  absl::StatusOr<common::v1::StoreBackup> made;
  {
    absl::MutexLock lock(&mutex_);
    made = BackupInto(folder, now);
  }
  if (!made.ok()) {
    log::Warning("store_backup_failed",
                 {{"store", store_name_},
                  {"folder", folder},
                  {"reason", std::string(made.status().message())}});
    return made.status();
  }
  log::Info("store_backed_up",
            {{"store", store_name_},
             {"folder", folder},
             {"sequence", made->sequence()},
             {"size_bytes", made->size_bytes()},
             {"seconds", absl::ToDoubleSeconds(absl::Now() - now)}});
  BackupResponse response;
  *response.add_backups() = *std::move(made);
  return response;
}

absl::StatusOr<common::v1::StoreBackup> AdminService::BackupInto(
    const std::string& folder, absl::Time now) {
  std::error_code error;
  if (fs::exists(folder, error)) {
    return AlreadyExistsError(
        absl::StrCat("destination: the backup folder ", folder,
                     " already exists; name another set"),
        folder);
  }
  // Left by a backup that did not finish (the process died): never a
  // backup, always safe to clear.
  const std::string partial = folder + ".partial";
  fs::remove_all(partial, error);
  fs::create_directories(partial, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", partial, ": ", error.message()));
  }
  absl::StatusOr<store::CopyInfo> copy = store_->Backup(partial + "/db");
  if (!copy.ok()) return copy.status();

  common::v1::StoreBackup backup;
  backup.set_service(service_);
  backup.set_store(store_name_);
  backup.set_store_path(store_path_);
  backup.set_folder(folder);
  backup.set_sequence(copy->sequence);
  backup.set_size_bytes(copy->size_bytes);
  *backup.mutable_taken_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(now));
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(backup, &json, options)
           .ok()) {
    return absl::InternalError("backup.json: cannot be written");
  }
  absl::Status written = WriteDurably(partial + "/backup.json", json);
  if (!written.ok()) return written;
  absl::Status synced = fileio::SyncFolder(partial);
  if (!synced.ok()) return synced;
  fs::rename(partial, folder, error);
  if (error) {
    return absl::InternalError(absl::StrCat("renaming ", partial, " to ",
                                            folder, ": ", error.message()));
  }
  synced = fileio::SyncFolder(fs::path(folder).parent_path().string());
  if (!synced.ok()) return synced;
  return backup;
}

}  // namespace mileagebank::server
