//! The GPU backend: WGSL compute shaders through wgpu (Vulkan natively, WebGPU in the
//! browser).
//!
//! Tensors stay resident in device buffers. Every op is *recorded* into one pending
//! command encoder, not run: a whole training step (forward, backward and update of all
//! seeds) becomes one command buffer, submitted only when the host needs numbers back
//! ([`Gpu::download`]), writes new host numbers ([`Gpu::write`]), or many ops have piled up.
//! Pipelines are compiled once per device; bind groups (with their small uniform blocks)
//! are cached by (kernel, tensors, parameters), so a step that repeats builds nothing new.
//! A cached bind group holds its buffers alive, so dropping a [`GpuBuffer`] evicts every
//! bind group that names it: many runs in a row on one device keep only the live
//! tensors' bind groups ([`Gpu::cached_bind_groups`], [`Gpu::live_buffers`]).
//!
//! "Get a device" ([`Gpu::acquire_async`]) is separate from "use a device"
//! ([`Gpu::from_device_async`]), so tests and embedders can pass their own `wgpu::Device`.
//!
//! Native and browser: everything that waits on the device is async at heart. Natively
//! the blocking forms ([`Gpu::acquire`], [`Gpu::download`]) drive those futures with
//! pollster (a readback completes inside `device.poll`). In the browser nothing may
//! block: the adapter and device requests are JavaScript promises and a buffer map
//! resolves from the event loop, so only [`Gpu::acquire_async`] and
//! [`Gpu::download_async`] work there (the engine's async driver awaits them).
//!
//! Failure handling: a lost device, an uncaptured wgpu error or a simulated loss
//! ([`Gpu::simulate_loss_after`]) mark the backend lost; from then on ops are skipped and
//! downloads return NaN, and the engine ([`crate::nn::train`]) reruns on the CPU.

mod kernels;

use kernels::{Kernel, Kernels};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Options for acquiring a GPU.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Accept software adapters (Mesa lavapipe, SwiftShader): right for correctness tests,
    /// never faster than the CPU backend.
    pub allow_software: bool,
    /// Test hook: compile an invalid shader, to exercise the compile-failure fallback.
    pub break_shader: bool,
}

/// Flush the pending encoder after this many recorded passes (bounds its memory when
/// the engine records rarely).
const MAX_PENDING_PASSES: usize = 512;
/// Drop all cached bind groups beyond this many (a backstop: dropped tensors already
/// evict theirs, so only live tensors used in very many combinations reach it).
const MAX_CACHED_BIND_GROUPS: usize = 4096;

/// A wgpu device with the backend's pipelines. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct Gpu {
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gpu({})", self.name())
    }
}

type BindKey = (Kernel, [u64; MAX_BINDINGS], [u32; 12]);

/// Most storage buffers one kernel binds.
const MAX_BINDINGS: usize = 6;

/// The bind groups built so far, and for each buffer id the keys that name it (so a
/// dropped buffer's bind groups, which hold it alive, can be evicted).
#[derive(Default)]
struct BindCache {
    groups: HashMap<BindKey, wgpu::BindGroup>,
    by_buffer: HashMap<u64, Vec<BindKey>>,
}

impl BindCache {
    fn insert(&mut self, key: BindKey, group: wgpu::BindGroup) {
        for id in live_ids(&key) {
            self.by_buffer.entry(id).or_default().push(key);
        }
        self.groups.insert(key, group);
    }

    /// Drop every bind group naming buffer `id`, and their keys from the other buffers'
    /// lists.
    fn evict(&mut self, id: u64) {
        for key in self.by_buffer.remove(&id).unwrap_or_default() {
            self.groups.remove(&key);
            for other in live_ids(&key).filter(|&o| o != id) {
                if let Some(keys) = self.by_buffer.get_mut(&other) {
                    keys.retain(|k| k != &key);
                }
            }
        }
    }

    fn clear(&mut self) {
        self.groups.clear();
        self.by_buffer.clear();
    }
}

/// The distinct buffer ids a key binds (0 is a stand-in buffer or an unused slot).
fn live_ids(key: &BindKey) -> impl Iterator<Item = u64> + '_ {
    let ids = &key.1;
    ids.iter()
        .enumerate()
        .filter(move |&(i, &id)| id != 0 && !ids[..i].contains(&id))
        .map(|(_, &id)| id)
}

struct Ctx {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    kernels: Kernels,
    pending: Mutex<Pending>,
    bind_groups: Mutex<BindCache>,
    /// Buffers made by [`Gpu::upload`] and [`Gpu::zeros`] and not yet dropped.
    live: AtomicU64,
    /// Why the device is unusable (None while healthy).
    lost: Arc<Mutex<Option<String>>>,
    ops: AtomicU64,
    lose_after: AtomicU64,
    next_id: AtomicU64,
    /// A 4-byte buffer bound where an optional operand is absent.
    dummy: GpuBuffer,
    /// A second one, for a kernel with two absent writable operands (the matmul without
    /// its epilogue), so that no buffer is bound twice.
    dummy2: GpuBuffer,
}

#[derive(Default)]
struct Pending {
    encoder: Option<wgpu::CommandEncoder>,
    passes: usize,
}

/// A device buffer of `len` f32 (at least 4 bytes: WebGPU forbids empty bindings).
pub struct GpuBuffer {
    buf: wgpu::Buffer,
    len: usize,
    id: u64,
    gpu: Option<Gpu>,
}

impl GpuBuffer {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Clone for GpuBuffer {
    /// A deep copy (a new device buffer), like cloning a host vector.
    fn clone(&self) -> Self {
        let gpu = self
            .gpu
            .clone()
            .expect("clone of a backend-internal buffer");
        let mut out = gpu.zeros(self.len);
        gpu.copy(self, &mut out);
        out
    }
}

impl Drop for GpuBuffer {
    /// Evict the bind groups that name this buffer (each holds it alive).
    fn drop(&mut self) {
        if let Some(gpu) = &self.gpu {
            gpu.ctx.bind_groups.lock().unwrap().evict(self.id);
            gpu.ctx.live.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuBuffer(len {}, id {})", self.len, self.id)
    }
}

fn storage_usage() -> wgpu::BufferUsages {
    wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST
}

fn byte_len(len: usize) -> u64 {
    (len.max(1) * 4) as u64
}

impl Gpu {
    /// Get a device: the first adapter wgpu offers (high performance preferred).
    /// Fails with a message when there is none, it is software and `allow_software` is
    /// off, or the shaders do not compile. Natively this blocks on [`Gpu::acquire_async`];
    /// in the browser use that one (adapter and device requests are JavaScript promises).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn acquire(opts: &GpuOptions) -> Result<Gpu, String> {
        pollster::block_on(Gpu::acquire_async(opts))
    }

    /// The browser cannot block on the adapter request: use [`Gpu::acquire_async`].
    #[cfg(target_arch = "wasm32")]
    pub fn acquire(_opts: &GpuOptions) -> Result<Gpu, String> {
        Err("in the browser the GPU is acquired asynchronously (Gpu::acquire_async)".into())
    }

    /// Get a device without blocking: natively over Vulkan, in the browser over WebGPU
    /// (`navigator.gpu`, in a window or a worker). Same failures as [`Gpu::acquire`].
    pub async fn acquire_async(opts: &GpuOptions) -> Result<Gpu, String> {
        #[cfg(target_arch = "wasm32")]
        if !browser_has_webgpu() {
            // wgpu panics outside a window or worker (node, worklets): ask first
            return Err("no WebGPU here (navigator.gpu is missing)".into());
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("no GPU adapter: {e}"))?;
        #[allow(unused_mut)]
        let mut info = adapter.get_info();
        #[cfg(target_arch = "wasm32")]
        if info.name.trim().is_empty() {
            // browsers leave the description empty; vendor and architecture name the
            // adapter ("google swiftshader")
            info.name = browser_adapter_label().await.unwrap_or_default();
        }
        if info.device_type == wgpu::DeviceType::Cpu && !opts.allow_software {
            return Err(format!("only a software adapter ({})", info.name));
        }
        let al = adapter.limits();
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: al.max_storage_buffer_binding_size,
            max_buffer_size: al.max_buffer_size,
            // WebGPU's default (the transformer's kernels bind up to five)
            max_storage_buffers_per_shader_stage: al.max_storage_buffers_per_shader_stage.min(8),
            ..wgpu::Limits::downlevel_defaults()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("scaling-playground"),
                required_limits: limits,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("GPU device request failed: {e}"))?;
        Gpu::from_device_async(device, queue, info, opts).await
    }

    /// Use a device: compile the kernels on `device` and wrap it (blocks on
    /// [`Gpu::from_device_async`]; native only, the browser cannot block).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        opts: &GpuOptions,
    ) -> Result<Gpu, String> {
        pollster::block_on(Gpu::from_device_async(device, queue, info, opts))
    }

    /// Use a device: compile the kernels on `device` (shader errors are awaited from an
    /// error scope) and wrap it.
    pub async fn from_device_async(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        opts: &GpuOptions,
    ) -> Result<Gpu, String> {
        let kernels = Kernels::compile(&device, opts.break_shader).await?;
        let lost: Arc<Mutex<Option<String>>> = Arc::default();
        let on_lost = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            let mut l = on_lost.lock().unwrap();
            l.get_or_insert(format!("device lost ({reason:?}): {msg}"));
        });
        let on_err = lost.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut l = on_err.lock().unwrap();
            l.get_or_insert(format!("GPU error: {e}"));
        }));
        let stand_in = || GpuBuffer {
            buf: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("dummy"),
                size: 4,
                usage: storage_usage(),
                mapped_at_creation: false,
            }),
            len: 1,
            id: 0,
            gpu: None,
        };
        let (dummy, dummy2) = (stand_in(), stand_in());
        Ok(Gpu {
            ctx: Arc::new(Ctx {
                device,
                queue,
                info,
                kernels,
                pending: Mutex::default(),
                bind_groups: Mutex::default(),
                live: AtomicU64::new(0),
                lost,
                ops: AtomicU64::new(0),
                lose_after: AtomicU64::new(u64::MAX),
                next_id: AtomicU64::new(1),
                dummy,
                dummy2,
            }),
        })
    }

    /// "gpu: <adapter> (<api>)".
    pub fn name(&self) -> String {
        format!("gpu: {} ({:?})", self.ctx.info.name, self.ctx.info.backend)
    }

    /// The GPU API the adapter runs on ("Vulkan", "BrowserWebGpu").
    pub fn api_name(&self) -> String {
        format!("{:?}", self.ctx.info.backend)
    }

    /// The adapter's name as the platform reports it ("llvmpipe ...", "SwiftShader ...");
    /// browsers may report an empty description.
    pub fn adapter_name(&self) -> String {
        let n = self.ctx.info.name.trim();
        if n.is_empty() {
            format!("{:?}", self.ctx.info.backend)
        } else {
            n.to_string()
        }
    }

    /// True for software adapters (lavapipe, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.ctx.info.device_type == wgpu::DeviceType::Cpu
    }

    /// How many bind groups the cache holds (each keeps its buffers alive).
    pub fn cached_bind_groups(&self) -> usize {
        self.ctx.bind_groups.lock().unwrap().groups.len()
    }

    /// How many tensors ([`GpuBuffer`]s) of this device exist now.
    pub fn live_buffers(&self) -> usize {
        self.ctx.live.load(Ordering::Relaxed) as usize
    }

    /// Why the device became unusable, if it did.
    pub fn lost(&self) -> Option<String> {
        self.ctx.lost.lock().unwrap().clone()
    }

    /// How many kernels have been recorded on this device so far (one compute pass and
    /// one dispatch each): the launch count that tests and benchmarks read per step.
    pub fn kernel_launches(&self) -> u64 {
        self.ctx.ops.load(Ordering::Relaxed)
    }

    /// Test hook: behave as if the device were lost once `ops` more kernels have been
    /// recorded.
    pub fn simulate_loss_after(&self, ops: u64) {
        let now = self.ctx.ops.load(Ordering::Relaxed);
        self.ctx.lose_after.store(now + ops, Ordering::Relaxed);
    }

    fn is_lost(&self) -> bool {
        self.ctx.lost.lock().unwrap().is_some()
    }

    fn mark_lost(&self, why: String) {
        self.ctx.lost.lock().unwrap().get_or_insert(why);
    }

    fn new_buffer(&self, len: usize, contents: Option<&[f32]>) -> GpuBuffer {
        let d = &self.ctx.device;
        let buf = match contents {
            Some(v) if !v.is_empty() => {
                use wgpu::util::DeviceExt;
                d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents: bytemuck::cast_slice(v),
                    usage: storage_usage(),
                })
            }
            _ => d.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size: byte_len(len),
                usage: storage_usage(),
                mapped_at_creation: false,
            }),
        };
        self.ctx.live.fetch_add(1, Ordering::Relaxed);
        GpuBuffer {
            buf,
            len,
            id: self.ctx.next_id.fetch_add(1, Ordering::Relaxed),
            gpu: Some(self.clone()),
        }
    }

    /// A buffer holding a copy of `v`.
    pub fn upload(&self, v: &[f32]) -> GpuBuffer {
        self.new_buffer(v.len(), Some(v))
    }

    /// A zero-filled buffer (wgpu zero-initialises new buffers).
    pub fn zeros(&self, len: usize) -> GpuBuffer {
        self.new_buffer(len, None)
    }

    /// Run `f` on the pending encoder (created on demand).
    fn record(&self, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
        let mut p = self.ctx.pending.lock().unwrap();
        let enc = p.encoder.get_or_insert_with(|| {
            self.ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("step"),
                })
        });
        f(enc);
        p.passes += 1;
        if p.passes >= MAX_PENDING_PASSES {
            let enc = p.encoder.take();
            p.passes = 0;
            drop(p);
            if let Some(enc) = enc {
                self.ctx.queue.submit([enc.finish()]);
            }
        }
    }

    /// Submit everything recorded so far (without waiting).
    pub fn flush(&self) {
        let enc = {
            let mut p = self.ctx.pending.lock().unwrap();
            p.passes = 0;
            p.encoder.take()
        };
        if let Some(enc) = enc
            && !self.is_lost()
        {
            self.ctx.queue.submit([enc.finish()]);
        }
    }

    /// Copy a buffer back to the host, waiting for all recorded work. NaN when lost.
    /// Native only: it blocks on [`Gpu::download_async`] (the map completes during
    /// `device.poll`, so nothing is left pending).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn download(&self, t: &GpuBuffer) -> Vec<f32> {
        pollster::block_on(self.download_async(t))
    }

    /// The browser cannot wait for a buffer map: every read goes through
    /// [`Gpu::download_async`]. Marks the device lost and returns NaN.
    #[cfg(target_arch = "wasm32")]
    pub fn download(&self, t: &GpuBuffer) -> Vec<f32> {
        self.mark_lost("synchronous GPU readback is impossible in the browser".into());
        vec![f32::NAN; t.len]
    }

    /// Copy a buffer back to the host once all recorded work has run. Natively the device
    /// is polled to completion here; in the browser the map resolves from the JavaScript
    /// event loop while this future waits. NaN when lost (the engine then falls back).
    pub async fn download_async(&self, t: &GpuBuffer) -> Vec<f32> {
        if self.is_lost() {
            return vec![f32::NAN; t.len];
        }
        if t.len == 0 {
            return vec![];
        }
        let size = (t.len * 4) as u64;
        let staging = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.record(|enc| enc.copy_buffer_to_buffer(&t.buf, 0, &staging, 0, size));
        self.flush();
        let (tx, rx) = oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| tx.send(r));
        #[cfg(not(target_arch = "wasm32"))]
        if let Err(e) = self.ctx.device.poll(wgpu::PollType::wait_indefinitely()) {
            self.mark_lost(format!("device poll failed: {e}"));
        }
        let mapped = matches!(rx.await, Some(Ok(())));
        if !mapped || self.is_lost() {
            self.mark_lost("GPU readback failed".into());
            return vec![f32::NAN; t.len];
        }
        let out = match staging.get_mapped_range(..) {
            Ok(view) => bytemuck::cast_slice::<u8, f32>(&view).to_vec(),
            Err(e) => {
                self.mark_lost(format!("GPU readback failed: {e}"));
                return vec![f32::NAN; t.len];
            }
        };
        staging.unmap();
        out
    }

    /// Overwrite `dst` with host numbers (after the work recorded so far).
    pub fn write(&self, dst: &mut GpuBuffer, v: &[f32]) {
        assert_eq!(dst.len, v.len(), "write: length mismatch");
        if self.is_lost() || v.is_empty() {
            return;
        }
        // Queue writes land before the next submission's commands: submit pending first.
        self.flush();
        self.ctx
            .queue
            .write_buffer(&dst.buf, 0, bytemuck::cast_slice(v));
    }

    /// `dst = src` on the device.
    pub fn copy(&self, src: &GpuBuffer, dst: &mut GpuBuffer) {
        assert_eq!(src.len, dst.len, "copy: length mismatch");
        if self.is_lost() || src.len == 0 {
            return;
        }
        let size = (src.len * 4) as u64;
        self.record(|enc| enc.copy_buffer_to_buffer(&src.buf, 0, &dst.buf, 0, size));
    }

    /// Record one kernel launch: `params` fill its uniform block, `bufs` its storage
    /// bindings 1, 2, ... in order, `groups` the workgroup grid.
    fn launch(&self, k: Kernel, params: [u32; 12], bufs: &[&GpuBuffer], groups: [u32; 3]) {
        if self.is_lost() || groups.contains(&0) {
            return;
        }
        let n = self.ctx.ops.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.ctx.lose_after.load(Ordering::Relaxed) {
            self.mark_lost(format!("simulated device loss after {n} kernels"));
            return;
        }
        debug_assert!(bufs.len() <= MAX_BINDINGS);
        let mut ids = [0u64; MAX_BINDINGS];
        for (slot, b) in ids.iter_mut().zip(bufs) {
            *slot = b.id;
        }
        let key = (k, ids, params);
        let pipeline = self.ctx.kernels.pipeline(k);
        let bind_group = {
            let mut cache = self.ctx.bind_groups.lock().unwrap();
            match cache.groups.get(&key) {
                Some(g) => g.clone(),
                None => {
                    if cache.groups.len() >= MAX_CACHED_BIND_GROUPS {
                        cache.clear();
                    }
                    let g = self.bind_group(pipeline, &params, bufs);
                    cache.insert(key, g.clone());
                    g
                }
            }
        };
        self.record(|enc| {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        });
    }

    fn bind_group(
        &self,
        pipeline: &wgpu::ComputePipeline,
        params: &[u32; 12],
        bufs: &[&GpuBuffer],
    ) -> wgpu::BindGroup {
        use wgpu::util::DeviceExt;
        let d = &self.ctx.device;
        let layout = pipeline.get_bind_group_layout(0);
        // Each kernel's uniform struct is a prefix of these 12 words (a binding may be
        // larger than the struct it backs).
        let uniform = d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (i, b) in bufs.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.buf.as_entire_binding(),
            });
        }
        d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &entries,
        })
    }

    /// The 4-byte stand-in for an absent optional operand.
    fn dummy(&self) -> &GpuBuffer {
        &self.ctx.dummy
    }

    /// Two distinct 4-byte stand-ins.
    fn stand_ins(&self) -> (&GpuBuffer, &GpuBuffer) {
        (&self.ctx.dummy, &self.ctx.dummy2)
    }
}

/// True in a window or worker whose `navigator.gpu` exists (the only places wgpu's WebGPU
/// backend can start; it does not promise an adapter).
#[cfg(target_arch = "wasm32")]
fn browser_has_webgpu() -> bool {
    use js_sys::Reflect;
    let global = js_sys::global();
    let get = |o: &wasm_bindgen::JsValue, k: &str| {
        Reflect::get(o, &k.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let scope = get(&global, "Window").is_some() || get(&global, "WorkerGlobalScope").is_some();
    scope && get(&global, "navigator").is_some_and(|n| get(&n, "gpu").is_some())
}

/// The browser's WebGPU adapter as `navigator.gpu.requestAdapter()` describes it (vendor,
/// architecture, description), which wgpu's adapter info leaves out.
#[cfg(target_arch = "wasm32")]
async fn browser_adapter_label() -> Option<String> {
    use js_sys::Reflect;
    use wasm_bindgen::JsCast;
    let get = |o: &wasm_bindgen::JsValue, k: &str| Reflect::get(o, &k.into()).ok();
    let gpu = get(&get(&js_sys::global(), "navigator")?, "gpu")?;
    if gpu.is_undefined() || gpu.is_null() {
        return None;
    }
    let request: js_sys::Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = get(&adapter, "info")?;
    let parts: Vec<String> = ["vendor", "architecture", "description"]
        .iter()
        .filter_map(|k| get(&info, k)?.as_string())
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A 2-D grid of 256-wide workgroups covering `n` elements.
fn grid(n: usize) -> [u32; 3] {
    let groups = n.div_ceil(Kernel::ELEMENTWISE_GROUP as usize) as u32;
    let x = groups.min(65535);
    [x, if x == 0 { 0 } else { groups.div_ceil(x) }, 1]
}

fn f(x: f32) -> u32 {
    x.to_bits()
}

mod ops;
mod seq_ops;

/// A one-value channel from a wgpu callback to the future awaiting it (no executor or
/// extra crate needed: the sender stores the value and wakes the receiver's task).
mod oneshot {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    struct Slot<T> {
        value: Option<T>,
        waker: Option<Waker>,
        closed: bool,
    }

    pub struct Sender<T>(Arc<Mutex<Slot<T>>>);
    pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new(Slot {
            value: None,
            waker: None,
            closed: false,
        }));
        (Sender(slot.clone()), Receiver(slot))
    }

    impl<T> Sender<T> {
        pub fn send(self, v: T) {
            let waker = {
                let mut s = self.0.lock().unwrap();
                s.value = Some(v);
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Drop for Sender<T> {
        /// A sender dropped unsent (a callback that never ran) ends the wait with None.
        fn drop(&mut self) {
            let waker = {
                let mut s = self.0.lock().unwrap();
                s.closed = true;
                s.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = Option<T>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            let mut s = self.0.lock().unwrap();
            if let Some(v) = s.value.take() {
                return Poll::Ready(Some(v));
            }
            if s.closed {
                return Poll::Ready(None);
            }
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
