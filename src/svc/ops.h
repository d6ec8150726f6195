// Changes to the virtual-service table as values: the one mutation path. sluiceadm's
// commands today, and a config reload's diff, a health checker's verdict or a peer's sync
// message next, are all an Op applied by apply(); whoever applies it (the Director) then
// runs the side effects (steering map, forwarding records, state file) once, whatever the
// source. Trade-off: a closed set (std::variant) rather than an open class hierarchy, so
// every consumer (apply, logging, a future journal) is checked by the compiler when an
// operation is added.
#pragma once

#include <string>
#include <variant>

#include "common/result.h"
#include "net/addr.h"
#include "svc/model.h"

namespace sluice::svc {

class ServiceTable;

struct AddService {
  ServiceConfig cfg;
};
struct EditService {
  ServiceConfig cfg;
};
struct DelService {
  ServiceKey key;
};
struct ClearServices {};
struct AddDest {
  ServiceKey key;
  DestConfig dest;
};
struct EditDest {
  ServiceKey key;
  DestConfig dest;
};
struct DelDest {
  ServiceKey key;
  net::Endpoint rs;
};

// FULLNAT local addresses (DPVS's ipvsadm -P / -Q). DelLaddr names the address; its
// ifname, when not empty, must be the one the address was added with.
struct AddLaddr {
  ServiceKey key;
  LocalAddress laddr;
};
struct DelLaddr {
  ServiceKey key;
  LocalAddress laddr;
};

using Op = std::variant<AddService, EditService, DelService, ClearServices, AddDest, EditDest,
                        DelDest, AddLaddr, DelLaddr>;

// Applies `op` to `table` (validated there, all or nothing); the table's error as is.
Status apply(ServiceTable& table, const Op& op);

// A short name of the operation for logs ("add service", "edit real server", ...).
const char* opName(const Op& op) noexcept;

}  // namespace sluice::svc
