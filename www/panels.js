// The panels, in tab order. Each is {id, title, figure, build(section, ctx), run(ctx),
// sync?(ctx)} (sync: redo what depends on the values after a link or preset set them):
// `build` makes its controls (panel values live in the state's `vars`), `run` splits its
// work into independent RunConfigs for the worker pool and redraws as results land.
// ctx = {state, core, changed(), runPreset({name, panel, config?, patch?})}.
import { train } from "./panel-train.js";
import { transfer, coords, abc } from "./panel-sweeps.js";
import { kernels, richness, convergence, depth } from "./panel-theory.js";
import { engines, presets } from "./panel-engines.js";
import { scaling } from "./panel-scaling.js";
import { transformer } from "./panel-transformer.js";

export const PANELS = { train, presets, transfer, coords, abc, kernels, richness, convergence, depth, scaling, transformer, engines };
