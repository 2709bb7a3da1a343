mod model_tests;
