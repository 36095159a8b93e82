// BufferPool: the bounded free list behind the staging and device pools.
#include <sluice/gpu/buffer_pool.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace sluice::gpu {
namespace detail {

// Shared by every BufferPool handle and every leased PooledBuffer, so a buffer can come
// back after the last pool handle is gone; the memory is freed when the state dies.
class PoolState {
 public:
  PoolState(std::shared_ptr<MemoryResource> memory, std::size_t capacity)
      : memory_(std::move(memory)), capacity_(capacity) {}

  ~PoolState() {
    for (auto& [size, p] : idle_) memory_->deallocate(p, size);
  }

  std::optional<PooledBuffer> acquire(std::size_t bytes, const std::shared_ptr<PoolState>& self,
                                      PooledBuffer (*make)(std::shared_ptr<PoolState>, void*,
                                                           std::size_t));

  void give_back(void* p, std::size_t size) noexcept {
    std::function<void()> listener;
    {
      std::lock_guard lock(mutex_);
      --in_use_;
      idle_.emplace(size, p);
      listener = listener_;
    }
    // Outside the lock: the listener typically takes its owner's lock.
    if (listener) listener();
  }

  void set_listener(std::function<void()> listener) {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  void trim() noexcept {
    std::multimap<std::size_t, void*> idle;
    {
      std::lock_guard lock(mutex_);
      idle.swap(idle_);
      for (auto& [size, p] : idle) held_ -= size;
      count_ -= idle.size();
    }
    for (auto& [size, p] : idle) memory_->deallocate(p, size);
  }

  PoolStats stats() const {
    std::lock_guard lock(mutex_);
    PoolStats s;
    s.capacity = capacity_;
    s.in_use = in_use_;
    s.idle = idle_.size();
    s.high_water = high_water_;
    s.bytes_held = held_;
    s.allocations = allocations_;
    s.reuses = reuses_;
    s.misses = misses_;
    return s;
  }

  const std::shared_ptr<MemoryResource>& memory() const noexcept { return memory_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  void lease_one() {
    ++in_use_;
    high_water_ = std::max(high_water_, in_use_);
  }

  const std::shared_ptr<MemoryResource> memory_;
  const std::size_t capacity_;

  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> idle_;  // by size: lower_bound is the best fit
  std::size_t count_ = 0;                   // buffers allocated (leased + idle + being allocated)
  std::size_t in_use_ = 0;
  std::size_t high_water_ = 0;
  std::size_t held_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t reuses_ = 0;
  std::uint64_t misses_ = 0;
  std::function<void()> listener_;
};

std::optional<PooledBuffer> PoolState::acquire(std::size_t bytes,
                                               const std::shared_ptr<PoolState>& self,
                                               PooledBuffer (*make)(std::shared_ptr<PoolState>,
                                                                    void*, std::size_t)) {
  const std::size_t size = BufferPool::size_class(bytes);
  void* evict = nullptr;
  std::size_t evict_size = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto fit = idle_.lower_bound(size); fit != idle_.end()) {
      void* p = fit->second;
      std::size_t cap = fit->first;
      idle_.erase(fit);
      ++reuses_;
      lease_one();
      return make(self, p, cap);
    }
    if (count_ >= capacity_) {
      if (idle_.empty()) {
        ++misses_;
        return std::nullopt;
      }
      // Full, and every idle buffer is too small: replace the largest one.
      auto largest = std::prev(idle_.end());
      evict = largest->second;
      evict_size = largest->first;
      idle_.erase(largest);
      held_ -= evict_size;
      --count_;
    }
    // Reserve the slot, then allocate outside the lock (cudaHostAlloc can take ms).
    ++count_;
    held_ += size;
    lease_one();
  }
  if (evict) memory_->deallocate(evict, evict_size);
  void* p = nullptr;
  try {
    p = memory_->allocate(size);
  } catch (...) {
    std::lock_guard lock(mutex_);
    --count_;
    held_ -= size;
    --in_use_;
    throw;
  }
  {
    std::lock_guard lock(mutex_);
    ++allocations_;
  }
  return make(self, p, size);
}

}  // namespace detail

// --- PooledBuffer ---

PooledBuffer::PooledBuffer(PooledBuffer&& other) noexcept
    : pool_(std::move(other.pool_)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

PooledBuffer::~PooledBuffer() {
  release();
}

const MemoryResource* PooledBuffer::memory() const noexcept {
  return pool_ ? pool_->memory().get() : nullptr;
}

void PooledBuffer::release() noexcept {
  if (data_ && pool_) pool_->give_back(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
  pool_.reset();
}

// --- BufferPool ---

BufferPool::BufferPool(std::shared_ptr<MemoryResource> memory, std::size_t capacity) {
  if (!memory) throw std::invalid_argument("sluice::gpu::BufferPool: no memory resource");
  if (capacity == 0) throw std::invalid_argument("sluice::gpu::BufferPool: capacity must be >= 1");
  state_ = std::make_shared<detail::PoolState>(std::move(memory), capacity);
}

std::optional<PooledBuffer> BufferPool::try_acquire(std::size_t bytes) {
  // PooledBuffer's constructor is private to its friend BufferPool; the lambda (a local
  // class of this member) carries that access into PoolState.
  return state_->acquire(bytes, state_,
                         [](std::shared_ptr<detail::PoolState> pool, void* p, std::size_t n) {
                           return PooledBuffer(std::move(pool), p, n);
                         });
}

void BufferPool::set_release_listener(std::function<void()> listener) {
  state_->set_listener(std::move(listener));
}

void BufferPool::trim() noexcept {
  state_->trim();
}

bool BufferPool::owns(const PooledBuffer& buffer) const noexcept {
  return buffer.pool_ == state_ && buffer.data_ != nullptr;
}

PoolStats BufferPool::stats() const {
  return state_->stats();
}
std::size_t BufferPool::capacity() const noexcept {
  return state_->capacity();
}
const std::shared_ptr<MemoryResource>& BufferPool::memory() const noexcept {
  return state_->memory();
}

std::size_t BufferPool::size_class(std::size_t bytes) noexcept {
  constexpr std::size_t min_size = 4096;
  if (bytes <= min_size) return min_size;
  const std::size_t step = std::max(min_size, std::bit_floor(bytes) / 8);
  return (bytes + step - 1) / step * step;
}

}  // namespace sluice::gpu
