// Public interface of image/: build a directory into a reproducible OCI image (and OCI layout), push it.
export { buildImage } from './build.js';
export { type PushProgress, pushImage } from './push.js';
export { paxRecord } from './tar.js';
