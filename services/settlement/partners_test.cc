#include "services/settlement/partners.h"

#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"

namespace mileagebank::settlement {
namespace {

using ::mileagebank::testing::NamesField;

class PartnersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::Open(
        {.path = mileagebank::testing::FreshTestDir(), .tables = {kPartnersTable}}));
    partners_ = std::make_unique<Partners>(store_.get(), "FM");
  }

  static v1::RegisterPartnerRequest Airline(const std::string& code) {
    v1::RegisterPartnerRequest request;
    v1::Partner* partner = request.mutable_partner();
    partner->set_partner_code(code);
    partner->set_name("Air China");
    partner->set_type(v1::AIRLINE);
    partner->set_currency_code("CNY");
    v1::Contract* contract = partner->mutable_contract();
    contract->mutable_mile_sale_price()->set_currency_code("CNY");
    contract->mutable_mile_sale_price()->set_minor_units(2500);
    contract->mutable_award_price()->set_currency_code("CNY");
    contract->mutable_award_price()->set_minor_units(1800);
    request.mutable_actor()->set_operator_id("finance-1");
    return request;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Partners> partners_;
};

TEST_F(PartnersTest, RegisterIsIdempotentOnTheCode) {
  auto registered = partners_->RegisterPartner(Airline("CA"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->partner().status(), v1::ACTIVE);
  EXPECT_EQ(registered->partner().version(), 1);
  EXPECT_EQ(partners_->RegisterPartner(Airline("CA"))->partner().version(), 1);
  v1::RegisterPartnerRequest different = Airline("CA");
  different.mutable_partner()->set_name("Another");
  EXPECT_EQ(partners_->RegisterPartner(different).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->LastSequence(), 1u);  // One PartnerRegistered event.
}

TEST_F(PartnersTest, BadPartnersNameEveryField) {
  v1::RegisterPartnerRequest request = Airline("CAX");
  request.mutable_partner()->set_currency_code("cny");
  request.mutable_partner()->mutable_contract()->add_earning_table()->set_booking_class("yy");
  request.mutable_actor()->clear_operator_id();
  absl::Status status = partners_->RegisterPartner(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(status, "partner.partner_code")) << status;
  EXPECT_TRUE(NamesField(status, "partner.currency_code")) << status;
  EXPECT_TRUE(NamesField(status, "partner.contract.earning_table[0].booking_class"))
      << status;
  EXPECT_TRUE(NamesField(status, "actor.operator_id")) << status;
  EXPECT_TRUE(NamesField(partners_->RegisterPartner(Airline("FM")).status(),
                         "partner.partner_code"));
  v1::RegisterPartnerRequest hotel = Airline("HILTON");
  hotel.mutable_partner()->set_type(v1::HOTEL);
  EXPECT_TRUE(NamesField(partners_->RegisterPartner(hotel).status(),
                         "partner.contract.award_price"));
  EXPECT_EQ(store_->LastSequence(), 0u);
}

TEST_F(PartnersTest, UpdateUnderMaskWithVersion) {
  ASSERT_TRUE(partners_->RegisterPartner(Airline("CA")).ok());
  v1::UpdatePartnerRequest update;
  update.set_partner_code("CA");
  update.mutable_partner()->mutable_contract()->mutable_award_price()->set_currency_code("CNY");
  update.mutable_partner()->mutable_contract()->mutable_award_price()->set_minor_units(2000);
  update.mutable_update_mask()->add_paths("contract.award_price");
  update.set_expected_version(1);
  update.mutable_actor()->set_operator_id("finance-1");
  auto updated = partners_->UpdatePartner(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->partner().contract().award_price().minor_units(), 2000);
  EXPECT_EQ(updated->partner().contract().mile_sale_price().minor_units(), 2500);
  EXPECT_EQ(updated->partner().version(), 2);
  EXPECT_EQ(partners_->UpdatePartner(update).status().code(),
            absl::StatusCode::kFailedPrecondition);  // Stale version.
  update.set_expected_version(0);
  EXPECT_EQ(partners_->UpdatePartner(update)->partner().version(), 2);  // No change.
  update.mutable_update_mask()->set_paths(0, "currency_code");
  EXPECT_TRUE(NamesField(partners_->UpdatePartner(update).status(), "update_mask"));
}

TEST_F(PartnersTest, SuspendAndEarningTable) {
  v1::RegisterPartnerRequest request = Airline("CA");
  auto* rate = request.mutable_partner()->mutable_contract()->add_earning_table();
  rate->set_booking_class("Y");
  rate->set_percent(100);
  rate = request.mutable_partner()->mutable_contract()->add_earning_table();
  rate->set_booking_class("F");
  rate->set_percent(150);
  ASSERT_TRUE(partners_->RegisterPartner(request).ok());
  ASSERT_TRUE(partners_->RegisterPartner(Airline("MU")).ok());
  v1::ChangePartnerStatusRequest suspend;
  suspend.set_partner_code("CA");
  suspend.set_status(v1::SUSPENDED);
  suspend.set_reason("CONTRACT_REVIEW");
  suspend.mutable_actor()->set_operator_id("finance-1");
  EXPECT_EQ(partners_->ChangePartnerStatus(suspend)->partner().status(), v1::SUSPENDED);
  EXPECT_EQ(partners_->ChangePartnerStatus(suspend)->partner().version(), 2);

  v1::GetEarningTableRequest table;
  table.set_partner_code("CA");
  auto own = partners_->GetEarningTable(table);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->entries_size(), 2);
  EXPECT_EQ(own->entries(0).booking_class(), "F");
  EXPECT_EQ(own->status(), v1::SUSPENDED);
  table.set_partner_code("MU");
  EXPECT_TRUE(partners_->GetEarningTable(table)->default_table());
  table.set_partner_code("ZZ");
  EXPECT_EQ(partners_->GetEarningTable(table).status().code(),
            absl::StatusCode::kNotFound);

  v1::ListPartnersRequest list;
  list.set_status(v1::ACTIVE);
  auto active = partners_->ListPartners(list);
  ASSERT_EQ(active->partners_size(), 1);
  EXPECT_EQ(active->partners(0).partner_code(), "MU");
  list.clear_status();
  list.mutable_page()->set_page_size(1);
  auto first = partners_->ListPartners(list);
  ASSERT_EQ(first->partners_size(), 1);
  list.mutable_page()->set_page_token(first->page().next_page_token());
  EXPECT_EQ(partners_->ListPartners(list)->partners(0).partner_code(), "MU");
}

}  // namespace
}  // namespace mileagebank::settlement
