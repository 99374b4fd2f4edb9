{
  "targets": [
    {
      "target_name": "vwn_blas",
      "sources": ["native/blas.c", "native/dghc.c"],
      "cflags": ["-O3", "-std=gnu99", "-pthread", "-Wno-psabi"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["OS=='mac'", {
          "defines": ["VWN_USE_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3"] }
        }],
        ["OS!='mac' and OS!='win'", {
          "include_dirs": ["/usr/include/openblas", "/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/aarch64-linux-gnu/openblas-pthread"],
          "libraries": ["-lopenblas"]
        }],
        ["OS=='win'", {
          "libraries": ["openblas.lib"]
        }]
      ]
    }
  ]
}
