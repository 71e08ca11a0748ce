int dummy_clean_test(void); int dummy_clean_test(void){return 0;}
