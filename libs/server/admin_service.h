// AdminService: a service process's admin operations (admin.proto), today
// the online backup of its store. Each process with a store serves it on its
// own port, as admin.proto's <Service>Admin:
//
//   server::AdminService admin("accrual", (*host)->server_config().data_dir(),
//                              store->get());
//   (*host)->Serve({&service, &events, admin.grpc_service()});
//
// The services' ports are inside the cluster, as their other internal
// operations are; the gateway, whose port faces the outside, passes a Guard
// that admits an ADMIN API key only.
//
// A backup of the store goes to <data_dir>/<destination>/<store>/ (see
// admin.proto): written under "<store>.partial" and renamed once whole and
// fsynced, so that a folder of the final name always holds a whole,
// checked backup. One backup at a time per process, one structured log line
// for each ("store_backed_up", or "store_backup_failed" with the reason).
//
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_SERVER_ADMIN_SERVICE_H_
#define MILEAGEBANK_LIBS_SERVER_ADMIN_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/admin.pb.h"

namespace mileagebank::server {

class AdminService {
 public:
  // Runs around each call: it answers with a status of its own without
  // running `call` to refuse, else runs `call` and answers with its status.
  using Guard =
      std::function<absl::Status(const grpc::ServerContext& context,
                                 const std::function<absl::Status()>& call)>;

  // `service` names the process ("membership", "accrual", "redemption",
  // "settlement", "reporting", "gateway"; anything else is a wiring error
  // and aborts); `store` (outliving this) lives under `data_dir`.
  AdminService(absl::string_view service, std::string data_dir,
               store::Store* store, Guard guard = nullptr);
  AdminService(const AdminService&) = delete;
  AdminService& operator=(const AdminService&) = delete;
  ~AdminService();

  // To register with the server: admin.proto's <Service>Admin.
  grpc::Service* grpc_service() const { return grpc_service_.get(); }

  // The backup itself (what the RPC does once the guard admits it).
  absl::StatusOr<common::v1::BackupResponse> Backup(
      const common::v1::BackupRequest& request, absl::Time now = absl::Now());

 private:
  // The backup set's folder `destination` names; INVALID_ARGUMENT naming
  // the field when it is not one a backup may go to.
  absl::StatusOr<std::string> SetFolder(const std::string& destination,
                                        absl::Time now) const;
  absl::StatusOr<common::v1::StoreBackup> BackupInto(const std::string& folder,
                                                     absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string service_;
  const std::string data_dir_;
  store::Store* const store_;
  // The store's folder relative to data_dir ("accrual-2", "gateway/store"),
  // and its first part, the name of its backups ("accrual-2", "gateway").
  std::string store_path_;
  std::string store_name_;
  std::unique_ptr<grpc::Service> grpc_service_;
  absl::Mutex mutex_;
};

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_ADMIN_SERVICE_H_
