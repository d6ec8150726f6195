#include "svc/ops.h"

#include "svc/service_table.h"

namespace sluice::svc {

namespace {
template <class... Fs>
struct Overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overload(Fs...) -> Overload<Fs...>;
}  // namespace

Status apply(ServiceTable& table, const Op& op) {
  return std::visit(
      Overload{
          [&](const AddService& o) { return table.addService(o.cfg); },
          [&](const EditService& o) { return table.editService(o.cfg); },
          [&](const DelService& o) { return table.delService(o.key); },
          [&](const ClearServices&) { return table.clear(); },
          [&](const AddDest& o) { return table.addDest(o.key, o.dest); },
          [&](const EditDest& o) { return table.editDest(o.key, o.dest); },
          [&](const DelDest& o) { return table.delDest(o.key, o.rs); },
          [&](const AddLaddr& o) { return table.addLaddr(o.key, o.laddr); },
          [&](const DelLaddr& o) { return table.delLaddr(o.key, o.laddr); },
      },
      op);
}

const char* opName(const Op& op) noexcept {
  static constexpr const char* kNames[] = {"add service",     "edit service",
                                           "delete service",  "clear",
                                           "add real server", "edit real server",
                                           "delete real server", "add local address",
                                           "delete local address"};
  static_assert(std::size(kNames) == std::variant_size_v<Op>);
  return kNames[op.index()];
}

}  // namespace sluice::svc
