{
  "targets": [
    {
      "target_name": "dpo_gemm",
      "sources": ["gemm.c"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2"]
    }
  ]
}
