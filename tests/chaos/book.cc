#include "tests/chaos/book.h"

#include <iterator>

namespace mileagebank::chaos {
namespace {

template <typename T>
void Append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
}

}  // namespace

void Book::Count(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAcknowledged: ++acknowledged; break;
    case Outcome::kRefused: ++refused; break;
    case Outcome::kUnknown: ++unknown; break;
  }
}

void Book::Merge(Book other) {
  Append(enrolments, other.enrolments);
  Append(credits, other.credits);
  Append(claims, other.claims);
  Append(redemptions, other.redemptions);
  Append(files, other.files);
  acknowledged += other.acknowledged;
  refused += other.refused;
  unknown += other.unknown;
}

}  // namespace mileagebank::chaos
