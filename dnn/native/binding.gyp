{
  "targets": [
    {
      "target_name": "opml_native",
      "sources": ["opml_native.cc"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-O3", "-fwrapv", "-std=c++17"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fwrapv", "-std=c++17"] }
    }
  ]
}
