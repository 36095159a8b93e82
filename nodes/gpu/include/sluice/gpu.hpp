// sluice::gpu — moving batches to a GPU without a worker thread ever waiting on it.
//
//   #include <sluice/gpu.hpp>
//
//   sluice::gpu::TransferStage transfer({.device = sluice::gpu::Device::auto_detect});
//   transfer(sluice::gpu::HostBatch(std::move(bytes), {n, 224, 224, 3}),
//            sluice::make_completion<sluice::gpu::DeviceBatch>(
//                [](sluice::Outcome<sluice::gpu::DeviceBatch> o) { /* o.value->data() */ }));
//
// Pieces: Device (backend choice), BufferPool/PooledBuffer (bounded reusable memory),
// HostBatch and DeviceBatch (what goes in and comes out), CopyEngine (host or CUDA
// backend) and TransferStage (the async stage).
#pragma once

#include <sluice/gpu/buffer_pool.hpp>
#include <sluice/gpu/copy_engine.hpp>
#include <sluice/gpu/device.hpp>
#include <sluice/gpu/device_batch.hpp>
#include <sluice/gpu/host_batch.hpp>
#include <sluice/gpu/memory_resource.hpp>
#include <sluice/gpu/transfer_stage.hpp>
