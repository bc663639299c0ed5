// mbctl's backup commands beyond the table's `backup <service>` rows
// (commands.cc), which back up one service's store online:
//
//   mbctl backup create [--service=NAME] [--destination=SET]
//       `backup <service>` for every service (or the one named), all into
//       one set folder (default backups/<UTC time>), so that a data folder
//       that several services share gets one set of them. cli.cc runs it.
//   mbctl backup restore --from=FOLDER --to=DATA_DIR [--service=NAME]
//       puts backups back: FOLDER is one store's backup (it holds
//       backup.json) or a set of them; each store goes to DATA_DIR/<its
//       store_path>, which must not exist or be empty. Every backup is
//       checked (checksums, its event log) before anything is copied. Runs
//       here, on the machine holding the folders, with the service stopped
//       or its new data folder not yet in use.
//
// Thread-compatible.
#ifndef MILEAGEBANK_TOOLS_MBCTL_BACKUP_H_
#define MILEAGEBANK_TOOLS_MBCTL_BACKUP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/mbctl/request_builder.h"

namespace mileagebank::mbctl {

inline constexpr absl::string_view kBackupGroup = "backup";

// The lines `mbctl help` shows for `backup create` and `backup restore`,
// after the group's table commands.
std::vector<std::pair<std::string, std::string>> BackupExtraHelp(
    absl::string_view group);

// `mbctl backup restore`, from the command line's request flags (--from,
// --to, --service): a line for each store restored. INVALID_ARGUMENT for a
// missing, unknown or bad flag; NOT_FOUND when --from holds no backup (of
// --service); FAILED_PRECONDITION when a store's folder under --to is in
// use; DATA_LOSS for a damaged backup. Nothing is restored unless every
// store can be.
absl::StatusOr<std::vector<std::string>> RestoreBackups(
    const std::vector<FieldFlag>& flags);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_BACKUP_H_
