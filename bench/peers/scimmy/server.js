// SCIMMY peer for bench/run: Users in an in-memory Map behind scimmy-routers' express
// routes, with the same bearer token as the benchmark. Lookups by id read the Map;
// filters use SCIMMY's own Filter.match over all users (how its examples do it).
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import { randomUUID } from "node:crypto";

const TOKEN = process.env.BENCH_TOKEN || "bench-token-0123456789";
const users = new Map();

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, data) => {
    const id = resource.id || randomUUID();
    const now = new Date();
    const previous = users.get(id);
    const user = { ...data, id, meta: { created: previous?.meta.created ?? now, lastModified: now } };
    users.set(id, user);
    return user;
  })
  .egress((resource) => {
    if (resource.id) {
      const user = users.get(resource.id);
      if (!user) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return user;
    }
    const all = [...users.values()];
    return resource.filter ? resource.filter.match(all) : all;
  })
  .degress((resource) => {
    users.delete(resource.id);
  });
SCIMMY.Resources.declare(SCIMMY.Resources.Group)
  .ingress(() => { throw new SCIMMY.Types.Error(501, null, "not in this benchmark"); })
  .egress(() => [])
  .degress(() => {});

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
  type: "bearer",
  docUri: "https://example.com/bench",
  handler: (request) => {
    if (request.header("Authorization") !== `Bearer ${TOKEN}`) throw new Error("Authorization not detected!");
    return "bench";
  },
}));
app.listen(Number(process.env.PORT || 8090), "127.0.0.1");
