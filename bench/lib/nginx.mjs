// nginx as the reference reverse proxy: a generated config in a temp dir, run as a non-daemon
// child process. Two loopback listeners on the same upstream pool: one buffered (plain JSON
// answers), one with proxy_buffering off (SSE streams).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function nginxConfig({ dir, workers, port, streamPort, upstreamPort }) {
  for (const d of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d), { recursive: true });
  const proxy = `
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";`;
  const conf = `daemon off;
master_process on;
worker_processes ${workers};
worker_rlimit_nofile 20000;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "nginx-error.log")} warn;
events {
  worker_connections 8192;
  multi_accept on;
}
http {
  access_log off;
  # Request bodies stay in memory, as in the gateway (the default 16k spills longer ones to a
  # temp file, which nginx's unprivileged workers cannot open inside the run's private temp dir).
  client_body_buffer_size 1m;
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream mock {
    server 127.0.0.1:${upstreamPort};
    keepalive 1024;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {${proxy}
    }
  }
  server {
    listen 127.0.0.1:${streamPort} backlog=4096;
    location / {${proxy}
      proxy_buffering off;
    }
  }
}
`;
  const file = join(dir, "nginx.conf");
  writeFileSync(file, conf);
  return file;
}
