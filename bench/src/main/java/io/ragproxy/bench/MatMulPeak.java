package io.ragproxy.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;

/**
 * The fp32 matrix-multiply rate ONNX Runtime reaches on this machine: one {@code MatMul} node, {@code [m, k] × [k, n]},
 * run repeatedly with the same session options as the local embedding model. This is the "measured peak" the local
 * embeddings are compared with: what the same library's GEMM kernels sustain, not the datasheet's FMA count.
 *
 * <p>The ONNX model is written here as protobuf bytes (opset 13, IR 8), so the benchmark needs no model file.
 */
final class MatMulPeak {

    private MatMulPeak() {
    }

    /**
     * GFLOP (2·m·k·n per run) of {@code m×k · k×n} per second of wall time and per second of this process's CPU time,
     * over about {@code seconds}, with {@code threads} intra-op threads.
     */
    static double[] gflops(int m, int k, int n, int threads, double seconds) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            try (OrtSession session = env.createSession(matMulModel(), options);
                 OnnxTensor a = OnnxTensor.createTensor(env, FloatBuffer.wrap(random(m * k, 1)), new long[] {m, k});
                 OnnxTensor b = OnnxTensor.createTensor(env, FloatBuffer.wrap(random(k * n, 2)), new long[] {k, n})) {
                Map<String, OnnxTensor> inputs = Map.of("A", a, "B", b);
                for (int i = 0; i < 3; i++) { // warm-up: buffers, packing
                    session.run(inputs).close();
                }
                long runs = 0;
                var os = (com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
                long cpu0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                long deadline = t0 + (long) (seconds * 1e9);
                do {
                    session.run(inputs).close();
                    runs++;
                } while (System.nanoTime() < deadline);
                double s = (System.nanoTime() - t0) / 1e9;
                double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
                double gflop = 2.0 * m * k * n * runs / 1e9;
                return new double[] {gflop / s, gflop / cpu};
            }
        }
    }

    private static float[] random(int size, long seed) {
        Random r = new Random(seed);
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = r.nextFloat() - 0.5f;
        }
        return out;
    }

    /** ModelProto { ir_version 8, opset 13, graph { C = MatMul(A, B) } }, inputs and output float of unknown shape. */
    static byte[] matMulModel() {
        byte[] node = concat(string(1, "A"), string(1, "B"), string(2, "C"), string(3, "mm"), string(4, "MatMul"));
        byte[] graph = concat(message(1, node), string(2, "peak"),
                message(11, valueInfo("A")), message(11, valueInfo("B")), message(12, valueInfo("C")));
        byte[] opset = concat(string(1, ""), varint(2, 13));
        return concat(varint(1, 8), message(7, graph), message(8, opset));
    }

    private static byte[] valueInfo(String name) {
        byte[] tensorType = varint(1, 1); // elem_type FLOAT
        byte[] type = message(1, tensorType);
        return concat(string(1, name), message(2, type));
    }

    private static byte[] varint(int field, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeRaw(out, (long) field << 3);
        writeRaw(out, value);
        return out.toByteArray();
    }

    private static byte[] string(int field, String s) {
        return message(field, s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] message(int field, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeRaw(out, ((long) field << 3) | 2);
        writeRaw(out, body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static void writeRaw(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
