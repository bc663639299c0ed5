#include "services/reporting/module_queries.h"

#include <utility>

#include "services/reporting/accrual_analysis.h"
#include "services/reporting/expiring_miles.h"
#include "services/reporting/liability.h"
#include "services/reporting/members.h"
#include "services/reporting/partner_settlement.h"
#include "services/reporting/redemptions.h"
#include "services/reporting/sales_offices.h"
#include "services/reporting/top_members.h"

namespace mileagebank::reporting {

ReportQueries ModuleQueries() {
  ReportQueries queries;
#define MB_BIND_MODULE_QUERY(Name, field) queries.field = &Name##Report;
  MB_REPORTING_REPORTS(MB_BIND_MODULE_QUERY)
#undef MB_BIND_MODULE_QUERY
  return queries;
}

ConsistencyFigures ModuleFigures(std::function<absl::Time()> clock) {
  return {
      .liability_total = [](const ViewReader& view) {
        return LiabilityTotal(view);
      },
      .sum_of_member_balances = [](const ViewReader& view) {
        return SumOfMemberBalances(view);
      },
      .current_tier_counts =
          [clock](const ViewReader& view) -> absl::StatusOr<TierCounts> {
        return CurrentTierCounts(view, clock());
      },
      .recount_tiers =
          [clock](const ViewReader& view) -> absl::StatusOr<TierCounts> {
        return RecountTiers(view, clock());
      },
  };
}

}  // namespace mileagebank::reporting
