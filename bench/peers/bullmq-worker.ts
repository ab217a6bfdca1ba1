/** One BullMQ worker process for the bench peer: completes each job with its data, like an echo probe. */
import { Worker } from 'bullmq';

const port = Number(process.argv[2]);
const worker = new Worker('bench', async (job) => job.data, {
  connection: { host: '127.0.0.1', port },
  concurrency: 64,
});
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
