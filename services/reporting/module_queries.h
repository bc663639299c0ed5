// The report modules' functions bound into the service's and the
// consistency check's tables: the one place that names every module, so
// that the service and the check can be tested with fakes.
//
// Thread-safe: the functions only read the view they are given.
#ifndef MILEAGEBANK_SERVICES_REPORTING_MODULE_QUERIES_H_
#define MILEAGEBANK_SERVICES_REPORTING_MODULE_QUERIES_H_

#include <functional>

#include "absl/time/time.h"
#include "services/reporting/consistency.h"
#include "services/reporting/service.h"

namespace mileagebank::reporting {

// <Name>Report of each module.
ReportQueries ModuleQueries();

// LiabilityTotal, SumOfMemberBalances, CurrentTierCounts and RecountTiers;
// the tier counts are those of the UTC day of `clock()`.
ConsistencyFigures ModuleFigures(std::function<absl::Time()> clock);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_MODULE_QUERIES_H_
