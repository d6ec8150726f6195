// The ServiceTable: the one mutation path of the virtual-service model. Config load,
// reload, every sluiceadm command and every health-check verdict become these operations;
// each validates like ipvsadm + IPVS do (same messages where ipvsadm has one), and a
// successful change publishes a new immutable Snapshot for the data plane.
//
// It also hands out the small integer ids that index the arrays shared with the data
// plane (stats, per-dest connection counts). A deleted real server keeps its id in a
// "trash" list, still visible to the data path through Snapshot::findDest, until no
// connection or persistence template points at it any more (as IPVS keeps such dests in
// its dest_trash); only then is the id recycled. Re-adding the same real server to the same
// service before that revives the trashed one, with its id and counts, as IPVS does.
//
// Thread safety: every method takes an internal lock, so a health checker and the control
// socket may call it from different threads. The data plane never calls it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "abi/records.h"
#include "net/addr.h"
#include "svc/model.h"
#include "svc/snapshot.h"

namespace sluice::svc {

class Stats;

struct TableLimits {
  uint32_t max_services = 4096;
  uint32_t max_dests = 65536;
  // How long a deleted dest must have had no connections before its id is recycled; covers
  // a worker still scheduling on the previous snapshot (IPVS waits 120 s, we need far less).
  Nanos trash_grace = 10 * kSecond;
};

// FULLNAT local addresses per service. DPVS sets no limit; each one is a pool of ports per
// worker in the data path, so a cap keeps one service from taking the memory of all.
constexpr size_t kMaxLaddrsPerService = 256;
// Linux's IFNAMSIZ less the terminating NUL.
constexpr size_t kMaxIfnameLen = 15;

// ipvsadm 1.31's ranges: -p (seconds), -w, -x and -y.
constexpr uint32_t kMaxPersistenceTimeout = 86400 * 31;
constexpr int32_t kMaxWeight = 65535;
constexpr uint32_t kMaxThreshold = 2147483647;  // INT_MAX

// What listing returns: the configuration as stored (normalised), with the ids.
struct DestState {
  uint32_t dest_id = 0;
  DestConfig cfg;
};
struct ServiceState {
  uint32_t svc_id = 0;
  ServiceConfig cfg;
  // IPVS's list order: the most recently added first (as ipvsadm -Ln lists them).
  std::vector<DestState> dests;
  // FULLNAT local addresses, in the order they were added (the data path's stable order).
  std::vector<LocalAddress> laddrs;
};
// A deleted real server still carrying connections (IPVS dest_trash). Its service may be
// gone too; svc_key then names the deleted service, whose id lives on with it.
struct TrashedDest {
  uint32_t dest_id = 0;
  uint32_t svc_id = 0;
  ServiceKey svc_key;
  DestConfig cfg;
};
// Everything a restarted daemon needs to give connections their ids back.
struct TableState {
  std::vector<ServiceState> services;  // insertion order
  std::vector<TrashedDest> trash;
};

class ServiceTable {
 public:
  // `counts`: the per-dest connection counts shared with the data plane, indexed by
  // dest_id; its size caps max_dests. It may be empty (tests, --check): dests then count
  // as idle and SchedDest::counts is null. `stats`, if given, is told about every id handed
  // to a new owner so that it starts from zero. Both must outlive the table.
  ServiceTable(const Clock& clock, std::span<sl_dest_counts> counts, TableLimits limits = {},
               Stats* stats = nullptr);
  ServiceTable(const ServiceTable&) = delete;
  ServiceTable& operator=(const ServiceTable&) = delete;

  // ipvsadm -A / -E / -D / -C. Edit replaces every field of the config but the key.
  Status addService(const ServiceConfig& cfg);
  Status editService(const ServiceConfig& cfg);
  Status delService(const ServiceKey& key);
  Status clear();
  // ipvsadm -a / -e / -d. The dest is named by its endpoint; for DR and TUN (non-fwmark
  // services) the port is forced to the service port, and a port 0 means "the service
  // port", so `-r 10.0.0.1` names the same dest as `-r 10.0.0.1:80` on port 80.
  Status addDest(const ServiceKey& key, const DestConfig& dest);
  Status editDest(const ServiceKey& key, const DestConfig& dest);
  Status delDest(const ServiceKey& key, const net::Endpoint& rs);
  // DPVS's ipvsadm -P / -Q: a FULLNAT local address of the service. Of the service's family
  // (DPVS's NAT64, a v6 service with v4 local addresses, is refused), unicast, not twice,
  // at most kMaxLaddrsPerService. Allowed on any service, as DPVS does: only its FULLNAT
  // real servers use them, and they may be added before or after.
  Status addLaddr(const ServiceKey& key, const LocalAddress& laddr);
  Status delLaddr(const ServiceKey& key, const LocalAddress& laddr);

  // Recycles the ids of trashed dests that have had no active, inactive or persistence
  // entries for `trash_grace`, and of deleted services whose dests are all gone. Call
  // it periodically (e.g. every second). Returns how many dest ids were released.
  size_t purgeTrash();

  // Restart support (service_table_restore.cc). exportState() is one consistent copy of
  // the services, their dests and the trash, with ids. restore() installs such a copy into
  // an empty table with exactly those ids (connections that outlived the daemon refer to
  // them), validating every service and dest as add* would, plus the ids: in range, used
  // once, a trashed dest's service id consistent with its key. All or nothing; publishes.
  TableState exportState() const;
  Status restore(const std::vector<ServiceState>& services, const std::vector<TrashedDest>& trash);

  // Defers publishing: changes made while a Batch lives are published as one snapshot
  // when the last Batch ends (config load, reload). Each operation still validates and
  // fails on its own.
  class Batch {
   public:
    explicit Batch(ServiceTable& t);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    ServiceTable& t_;
  };

  // Read side for the control plane.
  std::vector<ServiceState> list() const;  // insertion order
  Result<ServiceState> get(const ServiceKey& key) const;  // "No such service"
  size_t serviceCount() const;
  size_t trashCount() const;  // dests deleted but still carrying connections
  std::shared_ptr<const Snapshot> snapshot() const { return publisher_.current(); }
  const SnapshotPublisher& publisher() const { return publisher_; }

  // The key as stored: fwmark services ignore protocol, address and port.
  static ServiceKey canonicalKey(const ServiceKey& k);

  // What an empty scheduler name means (sluiceadm -A/-E without -s): IPVS's wlc, or mh on
  // a director of a cluster. Set before any service is added.
  void setDefaultScheduler(std::string name) { default_scheduler_ = std::move(name); }
  const std::string& defaultScheduler() const { return default_scheduler_; }

 private:
  std::string default_scheduler_ = "wlc";
  struct DestEntry {
    uint32_t id = 0;
    DestConfig cfg;
    // IPVS's last_weight: cfg.weight, except that setting weight 0 keeps the previous one
    // (mh keeps a quiesced server's slots with it). Set from cfg.weight on every add.
    int32_t last_weight = 0;
  };
  struct ServiceEntry {
    uint32_t id = 0;
    ServiceConfig cfg;
    std::vector<DestEntry> dests;
    std::vector<LocalAddress> laddrs;
    std::shared_ptr<const ServiceRt> rt;  // built eagerly, so that scheduler errors fail the op
  };
  struct TrashDest {
    uint32_t id = 0;
    uint32_t svc_id = 0;
    DestConfig cfg;
    std::optional<Nanos> idle_since;
  };
  class IdPool {
   public:
    explicit IdPool(uint32_t limit) : limit_(limit) {}
    std::optional<uint32_t> take();
    void give(uint32_t id) { free_.insert(id); }
    bool reserve(uint32_t id);  // marks a given id taken; false if out of range or taken
    uint32_t limit() const { return limit_; }

   private:
    uint32_t limit_;
    uint32_t next_ = 0;
    std::set<uint32_t> free_;  // released ids below next_, reused lowest first
  };

  ServiceEntry* find(const ServiceKey& k);
  const ServiceEntry* find(const ServiceKey& k) const;
  Result<ServiceConfig> normaliseService(const ServiceConfig& cfg) const;
  Result<DestConfig> normaliseDest(const ServiceConfig& svc, const DestConfig& d) const;
  // A local address for `svc` given the ones it has: the reason it cannot be added, or none.
  static Status checkLaddr(const ServiceConfig& svc, const std::vector<LocalAddress>& have,
                           const LocalAddress& l);
  Status rebuild(ServiceEntry& e);  // e.rt from e.cfg and e.dests; e.rt unchanged on error
  void trashDests(ServiceEntry& e);
  DestRt destRt(uint32_t svc_id, uint32_t dest_id, const DestConfig& cfg, bool trashed,
                int32_t last_weight = 0) const;
  std::optional<uint32_t> takeDestId();
  std::optional<uint32_t> takeSvcId();
  bool destIdle(uint32_t dest_id) const;
  size_t purgeLocked();
  void changed();  // publish now, or at the end of the outermost Batch
  void publishLocked();
  ServiceState stateOf(const ServiceEntry& e) const;

  const Clock& clock_;
  std::span<sl_dest_counts> counts_;
  TableLimits limits_;
  Stats* stats_;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<ServiceEntry>> services_;  // insertion order
  std::map<ServiceKey, ServiceEntry*> by_key_;
  std::vector<TrashDest> trash_;
  // Deleted services whose trashed dests still carry connections keep their id, so
  // connections keep counting into it; re-adding the same key takes the id back.
  std::map<ServiceKey, uint32_t> dead_services_;
  IdPool svc_ids_;
  IdPool dest_ids_;
  int batch_depth_ = 0;
  bool dirty_ = false;
  uint64_t version_ = 0;
  SnapshotPublisher publisher_;
};

}  // namespace sluice::svc
