// The synthetic indoor world: seeded scenes, a ray-cast renderer with exact z-depth and labels,
// and writers for a folder dataset and a rosbag2 MCAP.

export * from "./camera.js";
export * from "./classes.js";
export * from "./frames.js";
export * from "./render.js";
export * from "./scene.js";
export * from "./textures.js";
export * from "./bag.js";
export * from "./folder.js";
export * from "./png.js";
