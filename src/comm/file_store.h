// The rendezvous in a folder, for the ranks of one host (--store-dir, ALEXNET_STORE_DIR): no port,
// no server, nothing that rank 0 must serve. Keys and values go through Gloo's own FileStore; the
// roster is files and locks beside them:
//   keys/          Gloo's FileStore: one file per key, written to a temporary name and renamed
//   rank-R.lock    held with flock(LOCK_EX) by rank R for its whole life; the kernel drops the lock
//                  when the process dies, kill -9 included
//   rank-R.hello   "world_size towers pid host", written (atomically) once rank R holds its lock
//   rank-R.bye     rank R's goodbye, written before it lets go of its lock
//   rank-R.stuck   "group", "operation", member ranks: rank R's operation ran out of time
//   conflict-*     the message of a process turned away because its rank was taken
// A rank with a hello whose lock nobody holds and no goodbye is lost. A stopped (SIGSTOP) or
// deadlocked rank keeps its lock: the stuck reports find it, as with the TCP store.
//
// Gloo's FileStore as it stands does not fit our waits, so this class waits itself and asks the
// FileStore only for set and get: FileStore::wait() measures its timeout in whole seconds (1.5 s
// runs to 2 s), without a timeout uses Gloo's 30 s rather than --timeout, and throws Gloo's
// "Wait timeout for key(s)" instead of StoreTimeout naming the missing keys. Its set() is atomic
// (a rename) but refuses a key that exists, and get() refuses an empty value; no caller here does
// either (Gloo's mesh addresses and NCCL's id are set once and never empty).
//
// A fresh folder per job: a folder this rank did not create that already holds files while no rank
// holds a lock in it is an earlier job's, and is refused (see arrive()). At a normal end, once every
// rank has said goodbye, rank 0 removes the files and the folder.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "comm/rendezvous.h"

namespace gloo::rendezvous {
class FileStore;
}

namespace alexnet {

class FileRendezvous : public Rendezvous {
 public:
  // Creates `dir` if needed, refuses an earlier job's leftovers, takes this rank's lock and writes
  // its hello. `host`: this machine's name as the hello records it (empty: gethostname(); tests
  // fake another host). Throws UserError when the folder cannot be used, holds leftovers, or
  // another live process holds this rank.
  FileRendezvous(const std::string& dir, int rank, int world_size, int towers,
                 std::chrono::milliseconds timeout, std::string host = "");
  // Says goodbye. Rank 0 then lingers (bounded, as the TCP store's server does) for the others'
  // goodbyes, and once every rank has said it, removes the folder.
  ~FileRendezvous() override;
  FileRendezvous(const FileRendezvous&) = delete;
  FileRendezvous& operator=(const FileRendezvous&) = delete;

  // gloo::rendezvous::Store. wait() without a timeout uses the store's.
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

  // Reads the folder, polling it every 10 ms while waiting. Ranks on another host than this one's
  // are a conflict (wait_for_all_ranks throws it).
  Roster roster(int64_t after_version = -1,
                std::chrono::milliseconds wait = std::chrono::milliseconds(0)) override;

  const std::string& dir() const { return dir_; }
  std::string where() const override { return "the rendezvous store in " + dir_; }

  // Test hook: as if this process died: the lock drops, with no goodbye.
  void vanish() override;

 protected:
  void announce_stuck(const Roster::Stuck& stuck, std::chrono::milliseconds within) override;

 private:
  void arrive(bool created);
  Roster scan() const;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write_atomically(const std::string& name, const std::string& text) const;
  void linger_then_clean_up();

  std::string dir_, host_;
  int lock_fd_ = -1;  // this rank's rank-R.lock, locked
  std::unique_ptr<gloo::rendezvous::FileStore> keys_;
};

}  // namespace alexnet
